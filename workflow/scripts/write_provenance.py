"""Entry point of rule write_provenance: checksums, config and versions → provenance.json."""

import json
import logging

from metareview.provenance import build_provenance


def main(smk) -> None:
    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    record = build_provenance(list(smk.input), dict(smk.params.config))
    with open(smk.output[0], "w", encoding="utf-8", newline="\n") as handle:
        json.dump(record, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
