using Deque.AxeCore.Playwright;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Gatehouse.Tests.Ui;

/// <summary>
/// One headless Chromium (the machine's, <c>/usr/bin/chromium</c>; Playwright's own download does not work here) and one
/// server for a test class. Without Chromium nothing starts and the tests skip.
/// </summary>
public class UiBrowserFixture : IAsyncLifetime
{
    private readonly Action<GatehouseOptions> _configure;
    private readonly Action<IServiceCollection>? _services;

    public UiBrowserFixture() : this(UiServerFixture.Configure)
    {
    }

    /// <summary>A server configured by <paramref name="configure"/> (and <paramref name="services"/>) instead of the UI tests' default.</summary>
    protected UiBrowserFixture(Action<GatehouseOptions> configure, Action<IServiceCollection>? services = null)
    {
        _configure = configure;
        _services = services;
    }

    /// <summary><c>/usr/bin/chromium</c>, or the browser <c>GATEHOUSE_TEST_CHROMIUM</c> names (a Chromium installed elsewhere).</summary>
    public static string ChromiumPath { get; } = Environment.GetEnvironmentVariable("GATEHOUSE_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private TestServer? _server;

    public static bool Available => File.Exists(ChromiumPath);

    public static string SkipReason => $"{ChromiumPath} is not installed (Debian package chromium, or set GATEHOUSE_TEST_CHROMIUM); the browser tests of the UI are skipped.";

    /// <summary>Where every page the tests visit is saved for review.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "ui-screenshots");

    public TestServer Server => _server ?? throw new InvalidOperationException(SkipReason);

    public async ValueTask InitializeAsync()
    {
        if (!Available) return;
        Directory.CreateDirectory(ScreenshotDirectory);
        _server = await TestServer.StartAsync(Db.Sqlite, _configure, _services);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A fresh browser context (its own cookies), English, desktop-sized.</summary>
    public async Task<IBrowserContext> NewContextAsync(string locale = "en-US", int width = 1024)
    {
        var context = await (_browser ?? throw new InvalidOperationException(SkipReason)).NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Server.PublicUrl,
            Locale = locale,
            ViewportSize = new ViewportSize { Width = width, Height = 800 },
        });
        context.SetDefaultTimeout(30_000);
        return context;
    }

    /// <summary>
    /// Waits until the page's address is <paramref name="url"/> and its document has loaded. Instead of Playwright's
    /// <c>WaitForURLAsync</c>: when the address already matches, that waits for the frame's "load" event, and the .NET client
    /// checks the events seen so far and subscribes to the next ones without a lock between the two. A navigation's "load"
    /// that arrives in between is missed, and the wait ends only at its timeout (it sees "NetworkIdle" fire, never "load"),
    /// which busy test machines hit now and then after a click that loads the next step of a flow at a matching address.
    /// Here the check runs in the page (re-run by Playwright in each new document), so nothing can slip between two looks.
    /// </summary>
    public static Task WaitForPageAsync(IPage page, string url) => WaitForPageAsync(page, url, exact: true);

    /// <inheritdoc cref="WaitForPageAsync(IPage, string)"/>
    public static Task WaitForPageAsync(IPage page, System.Text.RegularExpressions.Regex url) =>
        // The tests' patterns (escaped literals, classes, counts, anchors) mean the same in JavaScript.
        WaitForPageAsync(page, url.ToString(), exact: false);

    private static Task WaitForPageAsync(IPage page, string url, bool exact) =>
        page.WaitForFunctionAsync(
            "([url, exact]) => (exact ? location.href === url : new RegExp(url).test(location.href)) && document.readyState === 'complete'",
            new object[] { url, exact });

    /// <summary>
    /// Clicks a control that submits a form or follows a link, and waits until the next document has loaded — also when
    /// it has the same URL as this one (a flow page that renders its next step at the same address). Waiting for the URL
    /// alone cannot tell the page being replaced from the new one, and now and then waited on the old page's load state
    /// until it timed out. The old document is marked before the click; the wait ends once a document without the mark
    /// has loaded (Playwright re-runs the check in each new document).
    /// </summary>
    public static async Task ClickAndWaitForNextPageAsync(IPage page, ILocator control)
    {
        await page.EvaluateAsync("() => { window.__gatehouseLeftPage = true; }");
        await control.ClickAsync();
        await page.WaitForFunctionAsync("() => window.__gatehouseLeftPage !== true && document.readyState === 'complete'");
    }

    /// <summary>
    /// Asserts the page is styled, saves a full-page screenshot as <c>ui-screenshots/&lt;name&gt;.png</c> and asserts axe-core
    /// finds no serious or critical violation.
    /// </summary>
    public static async Task ReviewAsync(IPage page, string name)
    {
        ArgumentNullException.ThrowIfNull(page);
        // The page is styled: its stylesheet (same origin) loaded and has rules.
        Assert.True(await page.EvaluateAsync<bool>("() => [...document.styleSheets].some(s => { try { return s.cssRules.length > 0; } catch { return false; } })"),
            $"{name}: the stylesheet did not load on {page.Url}");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });
        var result = await page.RunAxe();
        var serious = result.Violations.Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help} — {string.Join(" | ", v.Nodes.Select(n => n.Html))}")
            .ToList();
        Assert.True(serious.Count == 0, $"{name}: axe-core found serious violations on {page.Url}:\n" + string.Join("\n", serious));
    }

    public virtual async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
    }
}
