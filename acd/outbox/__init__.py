"""Messages to other systems (12345, the provincial platform, the SMS gateway), kept in the
database until the receiver acknowledged them: retried, idempotent, resumed after an outage."""
