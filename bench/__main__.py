from __future__ import annotations

# Guarded: multiprocessing's spawn start method re-imports this module in each load process.
if __name__ == "__main__":
    from bench.cli import main

    raise SystemExit(main())
