"""Entry point of the gather rules: per-condition tables → the contract's combined tables.

With input ``folders`` (one folder per condition), each output ``results/<table>.csv`` is
combined from ``<folder>/<table>.csv`` of every folder; otherwise the inputs (a list of
per-condition files) are combined into the single output. See :mod:`metareview.gather`.
"""

import logging
from pathlib import Path


def main(smk) -> None:
    from metareview.gather import combine_files

    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    if smk.input.get("folders"):
        folders = list(smk.input.folders)
        pairs = [([Path(f) / Path(out).name for f in folders], out) for out in smk.output]
    else:
        pairs = [(smk.input, smk.output[0])]
    for paths, out in pairs:
        table = combine_files(list(paths), out)
        logging.info("%s: %d rows from %d files", out, len(table), len(paths))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
