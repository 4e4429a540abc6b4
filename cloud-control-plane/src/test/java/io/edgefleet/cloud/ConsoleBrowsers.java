package io.edgefleet.cloud;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;

/** What the console's browser tests share: Debian's Chromium through its own chromium-driver, waits, reads, screenshots. */
final class ConsoleBrowsers {
    static final String CHROMIUM = "/usr/bin/chromium";
    static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    static final Path SHOTS = Path.of("target", "console-screenshots");

    private ConsoleBrowsers() {
    }

    /**
     * Debian's chromium, headless, 1400×1100, browser console logged, through its own chromium-driver (never one Selenium
     * Manager would fetch).
     *
     * @param profile a fresh folder for the browser's profile
     * @param log the driver's log file name under {@link #SHOTS}
     */
    static ChromeDriver start(Path profile, String log) {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1100",
                "--user-data-dir=" + profile);
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort()
                .withLogFile(SHOTS.resolve(log).toFile()).build();
        return new ChromeDriver(service, options);
    }

    /** Polls every 100 ms until {@code condition} gives a non-null value other than {@code false}; stale elements retried. */
    static <T> T waitFor(WebDriver browser, Duration timeout, Function<WebDriver, T> condition) {
        return new org.openqa.selenium.support.ui.WebDriverWait(browser, timeout, Duration.ofMillis(100))
                .ignoring(StaleElementReferenceException.class).until(d -> {
                    T v = condition.apply(d);
                    return v instanceof Boolean b && !b ? null : v;
                });
    }

    /** The text of the first element {@code css} selects, "" when none. */
    static String text(WebDriver browser, String css) {
        List<WebElement> found = browser.findElements(By.cssSelector(css));
        return found.isEmpty() ? "" : found.get(0).getText();
    }

    static void screenshot(WebDriver browser, String name) throws java.io.IOException {
        Files.write(SHOTS.resolve(name + ".png"), ((ChromeDriver) browser).getScreenshotAs(OutputType.BYTES));
    }
}
