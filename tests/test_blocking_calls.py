"""BL501/BL503 beyond the rule examples: hot paths, options and paths across modules."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import rule_findings, write_files


def test_script_paths_option_replaces_the_defaults(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": """
            [tool.backlint.options.blocking-call-in-async]
            script-paths = ["ops/**"]
            """,
            "ops/backfill.py": """
            import time
            async def backfill():
                time.sleep(1)
            """,
            "scripts/seed.py": """
            import time
            async def seed():
                time.sleep(1)
            """,
        },
    )
    found = rule_findings(tmp_path, "BL501")
    assert [(d.path, d.span.start.line) for d in found] == [("scripts/seed.py", 3)]


def test_a_served_module_is_no_script(tmp_path: Path) -> None:
    """A module with route handlers serves requests, even if it can also run itself."""
    write_files(
        tmp_path,
        {
            "app/main.py": """
            import time
            import uvicorn
            from fastapi import FastAPI
            app = FastAPI()

            @app.get("/")
            async def index():
                time.sleep(1)

            if __name__ == "__main__":
                uvicorn.run(app)
            """,
        },
    )
    found = rule_findings(tmp_path, "BL501")
    assert [d.span.start.line for d in found] == [8]


def test_an_application_module_is_no_script(tmp_path: Path) -> None:
    """Middlewares run per request: a module that builds the app serves, main guard or not."""
    write_files(
        tmp_path,
        {
            "app/main.py": """
            import time
            from fastapi import FastAPI
            from app.api import router
            app = FastAPI()
            app.include_router(router)

            @app.middleware("http")
            async def throttle(request, call_next):
                time.sleep(0.1)
                return await call_next(request)

            if __name__ == "__main__":
                import uvicorn
                uvicorn.run(app)
            """,
            "app/tools/reindex.py": """
            import time
            async def reindex():
                time.sleep(1)
            if __name__ == "__main__":
                import asyncio
                asyncio.run(reindex())
            """,
        },
    )
    found = rule_findings(tmp_path, "BL501")
    assert [(d.path, d.span.start.line) for d in found] == [("app/main.py", 9)]


def test_only_the_registered_hooks_are_startup_code(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "app/main.py": """
            import time
            from fastapi import FastAPI

            async def open_pools():
                time.sleep(1)

            async def refresh():
                time.sleep(1)

            app = FastAPI()
            app.add_event_handler("startup", open_pools)
            app.add_event_handler("request", refresh)
            """,
        },
    )
    found = rule_findings(tmp_path, "BL501")
    assert [d.span.start.line for d in found] == [8]


def test_indirect_call_reaches_a_module_path_constant(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "app/storage.py": """
            from pathlib import Path
            UPLOADS = Path("/var/uploads")

            def save(name: str, data: bytes) -> None:
                (UPLOADS / name).write_bytes(data)
            """,
            "app/routes.py": """
            from app.storage import save

            async def upload(name: str, data: bytes) -> None:
                save(name, data)
            """,
        },
    )
    found = rule_findings(tmp_path, "BL503")
    assert [(d.path, d.span.start.line) for d in found] == [("app/routes.py", 4)]
    assert "`pathlib.Path().write_bytes` (via `app.storage.save`)" in found[0].message
