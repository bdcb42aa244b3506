"""Entry point of rule write_provenance: checksums, config and versions → provenance.json."""

import json
import logging

from metareview.outputs import write_atomic
from metareview.provenance import build_provenance


def main(smk) -> None:
    logging.basicConfig(filename=smk.log[0], level=logging.INFO, filemode="w")
    record = build_provenance(list(smk.input), dict(smk.params.config))
    text = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomic(smk.output[0], text)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821  (injected by Snakemake)
