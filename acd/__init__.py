"""The hotline12328 engine: the live model of calls, queues and seats, driven by Asterisk's AMI."""
