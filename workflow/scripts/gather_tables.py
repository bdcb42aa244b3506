"""Entry point of the gather rules: per-condition tables → the contract's combined tables.

Named inputs (a list of per-condition files each) are combined into the output of the same
name; unnamed inputs into the single output. See :mod:`metareview.gather`.
"""

import logging


def main(smk) -> None:
    from metareview.gather import combine_files

    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    names = list(smk.output.keys())
    pairs = (
        [(smk.input[n], smk.output[n]) for n in names] if names else [(smk.input, smk.output[0])]
    )
    for paths, out in pairs:
        table = combine_files(list(paths), out)
        logging.info("%s: %d rows from %d files", out, len(table), len(paths))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
