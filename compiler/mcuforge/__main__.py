from mcuforge.cli import main

raise SystemExit(main())
