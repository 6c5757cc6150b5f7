"""Jesse strategies on tradesim's matching engine (DESIGN §9).

Every module of this package imports Jesse, which loads thousands of modules and takes seconds:
import it only in a worker process or the CLI, never in the api (import-linter forbids it there).

Importing Jesse creates a cache folder in the working directory unless ``JESSE_CACHE_DIR`` says
where; a worker has no business writing into whatever folder it was started from, so the
default here is a folder under the system's temporary directory.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("JESSE_CACHE_DIR", os.path.join(tempfile.gettempdir(), "tradesim-jesse-cache"))
