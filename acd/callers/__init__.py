"""Callers never left waiting with nothing (issue 16): opening hours, announcements and the
wait estimate, callbacks that keep a caller's place, messages, order progress by phone,
blocked numbers, repeat-caller priority, revisits dialled by the platform, SMS to callers."""
