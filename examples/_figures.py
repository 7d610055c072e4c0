"""What the notes examples share: saving their figure and the `--out` option."""

import argparse
from pathlib import Path


def save(fig, out: Path, name: str) -> None:
    """Lay out `fig` and write it as `out/name`, creating the folder."""
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / name, dpi=120)
    print(f"figure: {out / name}")


def run(main, doc: str) -> None:
    """Call `main(out)` with the folder given by `--out` (default docs/training)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/training"), help="figure folder")
    main(parser.parse_args().out)
