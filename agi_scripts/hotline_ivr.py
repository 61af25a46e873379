#!/usr/bin/env python3
"""Classic AGI entry point, run by Asterisk inside its root: the IVR or the survey.

    AGI(/opt/hotline/agi_scripts/hotline_ivr.py,ivr|survey,${PROMPTS})
"""

import sys

sys.path[:0] = ["/opt/hotline/lib", "/opt/hotline"]

from agi_scripts.classic import run

sys.exit(run(sys.argv[1:]))
