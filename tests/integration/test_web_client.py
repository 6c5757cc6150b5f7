"""The web client in a real headless Chromium against `tradesim serve` and the protocol-faithful Bybit feed.

Elements are found by role and label, as a user finds them. Every page fails its test if it asks
anything of a host other than loopback or logs an error to the console. Screenshots of each main
screen go to `var/screenshots/` (not committed) for a person to look at.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import unavailable
from tests.support.web_stack import Feed, Serve, running_stack
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
Page = playwright_api.Page

#: Debian's chromium package; TRADESIM_CHROMIUM names another Chromium build (GitHub's Ubuntu runners
#: have Google Chrome, not Debian's package).
CHROMIUM = Path(os.environ.get("TRADESIM_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PASSWORD = "a long password"
#: Waits for the engine and the socket (a loaded shared machine), never a verdict on speed.
SLOW = 30_000
_emails = itertools.count(1)
# Every wait is on a condition; a loaded machine (argon2 on a busy CPU) only makes it longer.
expect.set_options(timeout=SLOW)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Serve, Feed]]:
    with running_stack(tmp_path_factory.mktemp("serve")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (.ci/run does), or set TRADESIM_CHROMIUM")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


FAILED_LOAD = re.compile(r"^Failed to load resource: the server responded with a status of (\d+)")


class Guard:
    """What a page did that it must not: leave loopback, log an error, get an error status it was not
    meant to get. Chromium logs every 4xx answer to the console; a test that provokes one on purpose
    (a wrong password, a refused order) allows that status, and only that one."""

    def __init__(self) -> None:
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.allowed: set[int] = set()

    def allow(self, *statuses: int) -> None:
        self.allowed.update(statuses)

    def console(self, kind: str, text: str) -> None:
        failed = FAILED_LOAD.match(text)
        if kind == "error" and not (failed and int(failed.group(1)) in self.allowed):
            self.errors.append(text)

    def response(self, status: int, url: str) -> None:
        if status >= 400 and status not in self.allowed:
            self.errors.append(f"{status} from {url}")


@pytest.fixture
def guard() -> Guard:
    return Guard()


@pytest.fixture
def page(browser: object, stack: tuple[Serve, Feed], guard: Guard) -> Iterator[Page]:
    serve, _feed = stack
    context = browser.new_context(base_url=serve.base_url, viewport={"width": 1366, "height": 860})  # type: ignore[attr-defined]

    def route(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).hostname not in LOOPBACK:
            guard.outside.append(url)
            route.abort()  # type: ignore[attr-defined]
        else:
            route.continue_()  # type: ignore[attr-defined]

    context.route("**/*", route)
    context.set_default_timeout(SLOW)
    opened = context.new_page()
    opened.on("console", lambda message: guard.console(message.type, message.text))
    opened.on("response", lambda response: guard.response(response.status, response.url))
    opened.on("pageerror", lambda error: guard.errors.append(str(error)))
    opened.on(
        "websocket",
        lambda ws: urlsplit(ws.url).hostname not in LOOPBACK and guard.outside.append(ws.url),
    )
    yield opened
    context.close()
    assert guard.outside == [], f"requests left loopback: {guard.outside}"
    assert guard.errors == [], f"console errors: {guard.errors}\nserve's failures: {failures_logged(serve)}"


def failures_logged(serve: Serve) -> list[str]:
    """What `serve` logged about the requests it failed (a 5xx says why only there)."""
    return [line for line in serve.log_path.read_text().splitlines() if "request_failed" in line]


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_fits_the_window(page: Page) -> None:
    """The page is no wider than its window, once its layout has followed a resize: the chart's
    canvas takes its new width on the next animation frame, which a loaded machine delays."""
    overflow = "() => document.documentElement.scrollWidth - window.innerWidth"
    try:
        page.wait_for_function(f"({overflow})() <= 0", timeout=SLOW)
    except playwright_api.TimeoutError:
        width = page.evaluate("() => window.innerWidth")
        pytest.fail(f"the page is {page.evaluate(overflow)}px wider than a {width}px window")


def sign_up(page: Page) -> str:
    """A new user, signed in, with a first account of 10000 USDT; returns the email."""
    email = f"trader{next(_emails)}@example.com"
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("button", name="Create account")).to_be_visible()
    page.get_by_label("Account name").fill("Main")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_label("Account", exact=True)).to_have_value(re.compile(".+"))
    expect(page.get_by_role("status").filter(has_text="live")).to_be_visible(timeout=SLOW)
    return email


def test_sign_up_log_in_and_the_chart_follows_a_price_the_feed_sets(
    page: Page, stack: tuple[Serve, Feed], guard: Guard
) -> None:
    _serve, feed = stack
    guard.allow(401)  # the wrong password, on purpose
    page.goto("/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    shot(page, "01-login")
    email = sign_up(page)
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert").filter(has_text="password")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_label("Account", exact=True)).to_contain_text("Main")
    page.reload()  # the access token lives in memory only: the stored refresh token signs in again, quietly
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_label("Account", exact=True)).to_contain_text("Main")
    expect(page.get_by_role("button", name="Log in")).to_be_hidden()

    feed.set_price("BTCUSDT", "30123.4")
    expect(page.get_by_role("img", name=re.compile(r"Candle chart of BTCUSDT, last close 30123\.4$"))).to_be_visible(
        timeout=SLOW
    )
    expect(page.get_by_label("Last price")).to_have_text("BTCUSDT 30123.4")
    feed.set_price("BTCUSDT", "30150.2")
    expect(page.get_by_role("img", name=re.compile(r"last close 30150\.2$"))).to_be_visible(timeout=SLOW)
    shot(page, "02-trade")
    feed.set_price("BTCUSDT", "30000.0")
    page.get_by_label("Symbol", exact=True).select_option("ETHUSDT")
    expect(page.get_by_role("img", name=re.compile(r"^Candle chart of ETHUSDT, last close 2000$"))).to_be_visible()
    expect(page.get_by_label("Quantity")).to_have_accessible_description(re.compile("step 0.01"))
    expect(page.get_by_label("Quantity")).to_have_value("0.01")  # the new symbol's minimum, not BTCUSDT's


def test_an_expired_access_token_is_refreshed_quietly_and_the_request_retried(page: Page, guard: Guard) -> None:
    guard.allow(401)  # the expiry below, on purpose
    sign_up(page)
    expired = {"error": {"code": "TOKEN_EXPIRED", "message": "the access token has expired"}}
    answered: list[str] = []

    def expire_once(route: object) -> None:
        if not answered and route.request.method == "GET":  # type: ignore[attr-defined]
            answered.append(route.request.url)  # type: ignore[attr-defined]
            route.fulfill(status=401, json=expired)  # type: ignore[attr-defined]
        else:
            route.fallback()  # type: ignore[attr-defined]

    page.route("**/api/v1/accounts", expire_once)
    page.get_by_role("button", name="New account").click()
    page.get_by_label("Account name").fill("Second")
    with page.expect_request("**/api/v1/auth/refresh") as refreshed:
        page.get_by_role("button", name="Create account").click()
    assert refreshed.value.method == "POST"
    expect(page.get_by_label("Account", exact=True)).to_have_value(re.compile(".+"))
    expect(page.get_by_label("Account", exact=True).get_by_role("option", name="Second")).to_have_count(1)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert len(answered) == 1


def test_a_refresh_the_server_could_not_answer_is_tried_again_and_the_trader_stays_signed_in(
    page: Page, guard: Guard
) -> None:
    guard.allow(503)  # the outage below, on purpose
    sign_up(page)
    busy = {"error": {"code": "UNAVAILABLE", "message": "the database file is busy"}}
    refreshes: list[int] = []

    def busy_twice(route: object) -> None:
        refreshes.append(len(refreshes))
        if len(refreshes) <= 2:
            route.fulfill(status=503, json=busy)  # type: ignore[attr-defined]
        else:
            route.fallback()  # type: ignore[attr-defined]

    page.route("**/api/v1/auth/refresh", busy_twice)
    page.reload()  # a reloaded page starts from its refresh token
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_label("Account", exact=True)).to_have_value(re.compile(".+"))
    assert len(refreshes) == 3
    refused = {"error": {"code": "UNAUTHENTICATED", "message": "refresh token was revoked; log in again"}}
    page.unroute("**/api/v1/auth/refresh")
    guard.allow(401)
    page.route("**/api/v1/auth/refresh", lambda route: route.fulfill(status=401, json=refused))  # type: ignore[attr-defined]
    page.reload()  # a refusal is not tried again: the session is over
    expect(page.get_by_label("Password")).to_be_visible()
    assert page.evaluate("() => localStorage.getItem('tradesim.refreshToken')") is None


def test_a_market_buy_through_the_ticket_shows_the_position_and_the_fill(page: Page, stack: tuple[Serve, Feed]) -> None:
    _serve, feed = stack
    sign_up(page)
    page.get_by_label("Quantity").fill("0.0105")
    page.get_by_label("Take profit").fill("31000")
    page.get_by_role("button", name="Buy").click()
    expect(page.get_by_label("Quantity")).to_have_value("0.010")  # snapped down to the 0.001 step
    expect(page.get_by_role("alert").filter(has_text="filled at")).to_be_visible(timeout=SLOW)
    positions = page.get_by_role("table", name="Positions")
    row = positions.get_by_role("row").filter(has_text="BTCUSDT")
    expect(row).to_contain_text("Buy")
    expect(row).to_contain_text("0.01")
    expect(row.get_by_label("Take profit for BTCUSDT")).to_have_value(re.compile("^31000"))
    page.get_by_role("tab", name="Executions").click()
    fills = page.get_by_role("table", name="Executions").get_by_role("row").filter(has_text="BTCUSDT")
    expect(fills).to_have_count(1)
    expect(fills).to_contain_text("Taker")
    expect(page.get_by_role("definition").first).not_to_have_text("10000 USDT")  # the fee left the balance

    page.get_by_role("tab", name="Positions").click()
    row.get_by_label("Stop loss for BTCUSDT").fill("29000.04")
    row.get_by_role("button", name="Set TP/SL for BTCUSDT").click()
    expect(row.get_by_label("Stop loss for BTCUSDT")).to_have_value(re.compile(r"^29000(\.0+)?$"), timeout=SLOW)
    lines = page.get_by_role("list", name="Chart lines and fills")
    expect(lines.get_by_role("listitem").filter(has_text=re.compile(r"^Entry Buy 0\.01 at 30000"))).to_have_count(1)
    expect(lines.get_by_role("listitem").filter(has_text=re.compile(r"^Take profit TP at 31000"))).to_have_count(1)
    expect(lines.get_by_role("listitem").filter(has_text=re.compile(r"^Stop loss SL at 29000"))).to_have_count(1)
    expect(lines.get_by_role("listitem").filter(has_text=re.compile(r"^Fill Buy 0\.01 at 30000"))).to_have_count(1)

    # The position is revalued as the mark price moves: bought 0.01 at the ask 30000.1.
    feed.set_price("BTCUSDT", "30100.0")
    try:
        expect(row.get_by_role("cell").nth(4)).to_have_text("30100", timeout=SLOW)
        expect(row.get_by_role("cell").nth(5)).to_have_text("0.999")
        wallet = page.get_by_role("region", name="Wallet").get_by_role("definition")
        expect(wallet.filter(has_text=re.compile(r"^0\.999 USDT$"))).to_have_count(1)  # unrealised PnL, and equity:
        expect(wallet.filter(has_text=re.compile(r"^10000\.83399945 USDT$"))).to_have_count(1)
    finally:
        feed.set_price("BTCUSDT", "30000.0")
    shot(page, "03-position-and-fill")
    page.get_by_role("button", name="Close BTCUSDT position").click()
    expect(positions.get_by_role("row").filter(has_text="No open position")).to_be_visible(timeout=SLOW)


def test_a_limit_order_rests_in_open_orders_and_is_cancelled_from_the_page(page: Page) -> None:
    sign_up(page)
    page.get_by_label("Order type").select_option("Limit")
    page.get_by_label("Quantity").fill("0.02")
    page.get_by_label("Price", exact=True).fill("29000.04")
    page.get_by_role("button", name="Buy").click()
    expect(page.get_by_label("Price", exact=True)).to_have_value("29000.00")  # snapped to the 0.10 tick
    page.get_by_role("tab", name=re.compile("^Open orders")).click()
    table = page.get_by_role("table", name="Open orders")
    row = table.get_by_role("row").filter(has_text="29000")
    expect(row).to_contain_text("New", timeout=SLOW)
    lines = page.get_by_role("list", name="Chart lines and fills")
    expect(lines.get_by_role("listitem").filter(has_text="Order Buy 0.02 at 29000")).to_have_count(1)
    shot(page, "04-open-orders")
    row.get_by_role("button", name=re.compile("^Cancel Buy 0.02")).click()
    expect(table.get_by_role("row").filter(has_text="No open order")).to_be_visible(timeout=SLOW)
    expect(lines.get_by_role("listitem")).to_have_count(0)
    page.get_by_role("tab", name="Order history").click()
    expect(page.get_by_role("table", name="Order history").get_by_role("row").filter(has_text="29000")).to_contain_text(
        "Cancelled"
    )

    # A conditional (stop) order rests untriggered at its trigger price.
    page.get_by_label("Order type").select_option("Conditional")
    page.get_by_label("Price", exact=True).fill("")
    page.get_by_label("Trigger price").fill("31000")
    page.get_by_role("button", name="Buy").click()
    page.get_by_role("tab", name=re.compile("^Open orders")).click()
    expect(table.get_by_role("row").filter(has_text="31000")).to_contain_text("Untriggered", timeout=SLOW)


def test_refusals_are_shown_in_words(page: Page, guard: Guard) -> None:
    guard.allow(422)  # the api's refusal, on purpose
    sign_up(page)
    # Refused by the engine after the 201: arrives on the socket as a Rejected order with a code.
    page.get_by_label("Quantity").fill("90")
    page.get_by_role("button", name="Buy").click()
    expect(page.get_by_role("alert").filter(has_text=re.compile(r"Refused: not enough"))).to_be_visible(timeout=SLOW)
    shot(page, "05-refusal")
    # Refused by the api at once (a 422 whose message names the rule).
    page.get_by_label("Order type").select_option("Limit")
    page.get_by_label("Quantity").fill("150")
    page.get_by_label("Price", exact=True).fill("29000")
    page.get_by_role("button", name="Buy").click()
    expect(
        page.get_by_role("alert").filter(has_text=re.compile(r"Refused: .*max.*\(QTY_ABOVE_MAXIMUM\)"))
    ).to_be_visible(timeout=SLOW)


def test_a_replay_is_created_stepped_played_and_traded(page: Page) -> None:
    sign_up(page)
    page.get_by_label("Start date").fill("2024-03-04")
    page.get_by_label("Start time (UTC)").fill("10:00")
    page.get_by_label("Bars per second").fill("5")
    page.get_by_role("button", name="Start replay").click()
    expect(page.get_by_label("Account", exact=True)).to_contain_text("Replay BTCUSDT")
    toolbar = page.get_by_role("toolbar", name="Replay controls")
    expect(toolbar).to_be_visible()
    clock = toolbar.get_by_role("status")
    expect(clock).to_contain_text("2024-03-04 10:00")
    toolbar.get_by_role("button", name="Step").click()
    expect(clock).to_contain_text("2024-03-04 10:01")
    expect(page.get_by_role("img", name=re.compile(r"Candle chart of BTCUSDT, last close \d"))).to_be_visible()
    toolbar.get_by_role("button", name="Play").click()
    expect(clock).to_contain_text("playing")
    expect(clock).not_to_contain_text("10:01:00", timeout=SLOW)  # bars are playing
    toolbar.get_by_role("button", name="Pause").click()
    expect(clock).to_contain_text("paused", timeout=SLOW)

    page.get_by_label("Quantity").fill("0.01")
    page.get_by_role("button", name="Buy").click()
    row = page.get_by_role("table", name="Positions").get_by_role("row").filter(has_text="BTCUSDT")
    expect(row).to_contain_text("Buy", timeout=SLOW)
    shot(page, "06-replay")
    toolbar.get_by_label("Jump to").fill("2024-03-04T12:00")
    toolbar.get_by_role("button", name="Jump").click()
    expect(clock).to_contain_text("2024-03-04 12:00", timeout=SLOW)
    # The bars played before the jump are still drawn: nothing after 12:00 is.
    expect(page.get_by_role("img", name=re.compile(r"Candle chart of BTCUSDT, last close \d"))).to_be_visible()


def test_a_journal_entry_is_written_with_a_chart_screenshot(page: Page) -> None:
    sign_up(page)
    page.get_by_role("tab", name="Journal").click()
    page.get_by_label("Title").fill("Breakout long")
    page.get_by_label("Notes").fill("Waited for the retest; sized to 1 % risk.")
    page.get_by_label("Tags (comma separated)").fill("breakout, btc")
    expect(page.get_by_label("Attach chart screenshot")).to_be_checked()
    page.get_by_role("button", name="Save entry").click()
    entries = page.get_by_role("list")
    expect(entries.get_by_role("listitem").filter(has_text="Breakout long")).to_contain_text("breakout")
    image = page.get_by_role("img", name="Chart screenshot of “Breakout long”")
    expect(image).to_be_visible(timeout=SLOW)
    assert image.evaluate("img => img.naturalWidth") > 100
    expect(page.get_by_text("Win rate")).to_be_visible()
    shot(page, "07-journal")


def test_the_layout_holds_in_a_narrow_window_and_works_by_keyboard(page: Page) -> None:
    sign_up(page)
    page.set_viewport_size({"width": 400, "height": 860})
    expect(page.get_by_role("button", name="Buy")).to_be_visible()
    assert_fits_the_window(page)
    page.get_by_role("tab", name="Positions").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name=re.compile("^Open orders"))).to_be_focused()
    expect(page.get_by_role("tab", name=re.compile("^Open orders"))).to_have_attribute("aria-selected", "true")
    page.get_by_label("Quantity").fill("0.01")
    page.get_by_label("Quantity").press("Enter")  # submits the ticket with its first button: Buy
    expect(page.get_by_role("alert").filter(has_text="filled at")).to_be_visible(timeout=SLOW)
    shot(page, "08-narrow")


def served(serve: Serve, method: str, path: str) -> bool:
    """Whether the api has the route at all: unauthenticated, a route that exists answers 401, not 404."""
    with httpx.Client(base_url=serve.base_url, timeout=10) as client:
        return client.request(method, path).status_code != 404


def wait_for_strategies(serve: Serve, email: str) -> None:
    """Until the api knows the strategies: `serve`'s worker publishes them once Jesse has loaded (the
    api answers 503 before), which a fresh process on a loaded machine may take a while to do."""
    with httpx.Client(base_url=serve.base_url, timeout=10) as client:
        token = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["accessToken"]
        wait_for(
            lambda: client.get("/api/v1/strategies", headers={"Authorization": f"Bearer {token}"}).status_code == 200,
            timeout=180,
            what="the api to know the strategies",
            every=0.5,
        )


def open_strategies(page: Page) -> None:
    page.get_by_role("tab", name="Strategies").click()
    expect(page.get_by_label("Strategy", exact=True).get_by_role("option", name="SmaCross")).to_have_count(1)
    page.get_by_label("Strategy", exact=True).select_option("SmaCross")


def test_a_backtest_is_started_followed_to_the_end_and_its_results_shown(
    page: Page, stack: tuple[Serve, Feed], guard: Guard
) -> None:
    serve, _feed = stack
    if not served(serve, "GET", "/api/v1/strategies"):
        pytest.skip("the api does not serve GET /api/v1/strategies nor /api/v1/strategy-runs yet (branch h/runs)")
    guard.allow(400, 422)  # the hyperparameter out of range, on purpose
    pushes: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda frame: '"strategy-run.' in str(frame) and pushes.append(str(frame))),
    )
    wait_for_strategies(serve, sign_up(page))
    open_strategies(page)
    expect(page.get_by_label("fast", exact=True)).to_have_accessible_description(re.compile(r"int, 2 to \d+, default"))
    page.get_by_label("Timeframe").select_option("1m")
    page.get_by_label("From (UTC)").fill("2024-03-04T00:00")
    page.get_by_label("To (UTC)").fill("2024-03-04T06:00")
    # Out of range: the api's refusal names the hyperparameter, and is shown beside it and in the form.
    page.get_by_label("fast", exact=True).fill("100000")
    page.get_by_role("button", name="Start backtest").click()
    refusal = page.get_by_role("alert").filter(has_text=re.compile(r"Refused: .*fast"))
    expect(refusal).to_be_visible()
    expect(page.get_by_label("fast", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("fast", exact=True)).to_have_accessible_description(re.compile("fast"))
    shot(page, "11-strategy-refused")

    page.get_by_label("fast", exact=True).fill("3")
    page.get_by_label("slow", exact=True).fill("8")
    page.get_by_role("button", name="Start backtest").click()
    expect(page.get_by_label("fast", exact=True)).not_to_have_attribute("aria-invalid", "true")
    run = page.get_by_role("region", name=re.compile("^Backtest of SmaCross"))
    expect(run.get_by_role("status")).to_have_text("finished 100 %", timeout=120_000)
    # The progress came on the socket's topic (a refused topic would show beside "live").
    expect(page.get_by_role("status").filter(has_text=re.compile("^live"))).to_have_text("live")
    assert any('"topic":"strategy-run.' in push.replace(" ", "") for push in pushes), pushes
    metrics = run.get_by_label("Backtest metrics")
    for name in ("total", "win_rate", "net_profit", "max_drawdown", "starting_balance", "finishing_balance"):
        expect(metrics.get_by_role("term").filter(has_text=re.compile(f"^{name}$"))).to_have_count(1)
    trades = run.get_by_role("table", name="Backtest trades").get_by_role("row").filter(has_text="2024-03-04")
    expect(trades.first).to_be_visible()
    count = trades.count()
    assert count > 0
    # Each round trip is two markers on the chart (in and out), also listed for a screen reader.
    expect(run.get_by_role("list", name="Backtest trade markers").get_by_role("listitem")).to_have_count(2 * count)
    expect(run.get_by_role("img", name=re.compile(f"^Backtest trades chart: {count} round trips"))).to_be_visible()
    expect(run.get_by_role("img", name="Backtest equity curve")).to_be_visible()
    past = page.get_by_role("table", name="Backtests").get_by_role("row").filter(has_text="SmaCross")
    expect(past.first).to_contain_text("finished")
    run.scroll_into_view_if_needed()
    shot(page, "12-backtest")

    # A longer one, cancelled while it is queued or running: it ends cancelled, in the list too.
    page.get_by_label("To (UTC)").fill("2024-03-05T00:00")
    page.get_by_role("button", name="Start backtest").click()
    expect(run.get_by_role("status")).not_to_have_text("finished 100 %")
    run.get_by_role("button", name="Cancel backtest").click()
    expect(run.get_by_role("status")).to_contain_text("cancelled")
    expect(run.get_by_role("button", name="Cancel backtest")).to_be_hidden()
    expect(past.filter(has_text="cancelled")).to_have_count(1)
    # The finished one is shown again from the list, results and all.
    past.filter(has_text="finished").get_by_role("button", name=re.compile("^Show backtest SmaCross")).click()
    expect(run.get_by_role("status")).to_have_text("finished 100 %")
    expect(trades).to_have_count(count)


def test_a_backtest_is_followed_by_polling_while_the_socket_says_nothing(page: Page, stack: tuple[Serve, Feed]) -> None:
    serve, _feed = stack
    if not served(serve, "GET", "/api/v1/strategies"):
        pytest.skip("the api does not serve GET /api/v1/strategies nor /api/v1/strategy-runs yet (branch h/runs)")
    wait_for_strategies(serve, sign_up(page))
    # From now on the page's socket reaches nothing: it opens, and never answers (not even the auth).
    page.route_web_socket("**/ws", lambda ws: None)
    page.reload()
    expect(page.get_by_role("status").filter(has_text="connecting")).to_be_visible()
    open_strategies(page)
    page.get_by_label("Timeframe").select_option("5m")
    page.get_by_label("From (UTC)").fill("2024-03-04T00:00")
    page.get_by_label("To (UTC)").fill("2024-03-04T04:00")
    page.get_by_role("button", name="Start backtest").click()
    run = page.get_by_role("region", name=re.compile("^Backtest of SmaCross"))
    expect(run.get_by_role("status")).to_have_text("finished 100 %", timeout=120_000)
    expect(run.get_by_label("Backtest metrics").get_by_role("term").filter(has_text="net_profit").first).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="connecting")).to_be_visible()  # the socket never spoke


def test_a_strategy_is_deployed_on_an_account_and_stopped(page: Page, stack: tuple[Serve, Feed]) -> None:
    serve, _feed = stack
    if not served(serve, "GET", "/api/v1/strategies"):
        pytest.skip("the api does not serve GET /api/v1/strategies yet (branch h/runs)")
    if not served(serve, "GET", "/api/v1/strategy-deployments"):
        pytest.skip("the api does not serve /api/v1/strategy-deployments yet (branch h/deploy)")
    wait_for_strategies(serve, sign_up(page))
    open_strategies(page)
    page.get_by_label("Timeframe").select_option("1m")
    expect(page.get_by_label("Deploy on account")).to_contain_text("Main")
    page.get_by_role("button", name="Deploy", exact=True).click()
    row = page.get_by_role("table", name="Deployments").get_by_role("row").filter(has_text="SmaCross")
    expect(row).to_contain_text("running")
    expect(row).to_contain_text("Main")
    shot(page, "13-deployed")
    row.get_by_role("button", name="Stop SmaCross on Main BTCUSDT").click()
    expect(row).to_contain_text("stopped")
    expect(row.get_by_role("button")).to_have_count(0)
    # The panel holds in a narrow window, and is reached by keyboard: the tabs move with the arrows.
    page.set_viewport_size({"width": 400, "height": 860})
    assert_fits_the_window(page)
    page.get_by_role("tab", name="Journal").click()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Strategies")).to_be_focused()
    expect(page.get_by_label("Strategy", exact=True)).to_be_visible()
    shot(page, "14-strategies-narrow")


def test_the_api_docs_pages_load_their_assets_from_the_api(page: Page) -> None:
    page.goto("/docs")
    expect(page.get_by_role("heading", name=re.compile("tradesim"))).to_be_visible(timeout=SLOW)
    shot(page, "09-swagger")
    page.goto("/redocs")
    expect(page.get_by_role("heading", name=re.compile("tradesim"))).to_be_visible(timeout=SLOW)
    shot(page, "10-redoc")
