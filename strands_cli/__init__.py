"""`strands-deploy`: drives a Strands Deploy server over its REST API from a terminal or CI.

Plain Python (httpx, rich): it imports nothing of the dashboard or the engine, so it installs
and runs anywhere the server can be reached.
"""

from __future__ import annotations

__version__ = "0.1.0"
