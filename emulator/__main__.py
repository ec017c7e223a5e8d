"""``python -m emulator`` and the ``satedge`` console script.

BLAS runs single-threaded unless the user says otherwise: the geometry's matrix products are small
and many, OpenBLAS threads measured 10-100x slower on them while the machine is busy, and a run
keeps its cores for its nodes. Set before numpy is first imported.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from emulator.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
