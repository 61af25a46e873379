"""The Mandarin IVR: menus as data, the FastAGI server, prompts and the satisfaction survey."""
