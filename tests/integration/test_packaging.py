"""The wheel is a library: installed with no extras it runs a simulation and pulls in no server stack."""

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_STACK = {"sqlalchemy", "redis", "quart", "boto3", "pyarrow", "jesse"}

SIMULATION = """
import json
from decimal import Decimal

import tradesim
from tradesim.domain import (
    ManualClock, MatchingEngine, OrderFilled, OrderType, PlaceOrder, Side, Ticker, default_catalog,
)

clock = ManualClock(1_700_000_000_000)
engine = MatchingEngine(default_catalog(), clock)
engine.open_account("acc", Decimal("10000"))
engine.on_ticker(Ticker.of("BTCUSDT", last="30000", bid="29999.9", ask="30000.1", ts=clock()))
events = engine.place(PlaceOrder("acc", "BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.01")))
events += engine.place(
    PlaceOrder("acc", "BTCUSDT", Side.SELL, OrderType.LIMIT, Decimal("0.01"), price=Decimal("30500"))
)
clock.advance(1000)
events += engine.on_ticker(Ticker.of("BTCUSDT", last="30500", ts=clock()))
fills = [e.execution for e in events if isinstance(e, OrderFilled)]
print(json.dumps({
    "module": tradesim.__file__,
    "fills": [[str(f.side), str(f.exec_price), str(f.exec_qty), f.is_maker] for f in fills],
    "wallet": str(engine.account_view("acc").wallet_balance),
}))
"""


def run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_the_bare_wheel_runs_a_simulation_without_the_server_stack(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH (scripts/test installs it); it builds the wheel and the venv")

    dist = tmp_path / "dist"
    run(uv, "build", "--wheel", "--out-dir", dist, cwd=REPO_ROOT)
    (wheel,) = dist.glob("tradesim-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert "tradesim/domain/data/instruments.json" in archive.namelist()
        web = "tradesim/entrypoints/http/web/static/"
        assert {web + "index.html", web + "vendor/lightweight-charts/NOTICE"} <= set(archive.namelist())

    venv = tmp_path / "venv"
    run(uv, "venv", venv, "--python", "3.11", cwd=tmp_path)
    python = venv / "bin" / "python"
    run(uv, "pip", "install", "--python", python, wheel, cwd=tmp_path)

    # Run from the temporary folder so that only the installed wheel can be imported.
    result = json.loads(run(python, "-c", SIMULATION, cwd=tmp_path))
    assert Path(result["module"]).is_relative_to(venv)
    # Market buy 0.01 at the ask 30,000.1 (taker), then the resting sell at 30,500 (maker).
    assert result["fills"] == [["Buy", "30000.1", "0.01", False], ["Sell", "30500", "0.01", True]]
    # 10,000 - taker fee 0.16500055 + PnL (305 - 300.001 = 4.999) - maker fee 305 x 0.0002 = 0.061.
    assert result["wallet"] == "10004.77299945"

    installed = json.loads(run(uv, "pip", "list", "--python", python, "--format", "json", cwd=tmp_path))
    names = {package["name"].lower() for package in installed}
    assert "tradesim" in names
    assert {"attrs", "cattrs"} <= names
    assert not names & SERVER_STACK, f"the bare wheel pulled in {sorted(names & SERVER_STACK)}"
