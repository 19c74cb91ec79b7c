import sys

from kompetensprognos.cli import main

sys.exit(main())
