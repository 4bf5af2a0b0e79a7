package io.basalt.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What Prometheus does to a node: {@code GET /metrics} with the admin token once a period, on a thread of
 * its own, from {@link #start} until {@link #close}. Counts the scrapes, the ones that did not answer 200
 * in time, and the slowest answer.
 */
final class MetricsScraper implements AutoCloseable {
    static final Duration PERIOD = Duration.ofSeconds(1);
    /** Prometheus's default scrape timeout. */
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    /**
     * @param scrapes      scrapes started
     * @param failed       of those, answered other than 200, or not at all within {@link #TIMEOUT}
     * @param slowestNanos the longest a scrape took, failed or not
     * @param firstFailure what went wrong first; null if nothing did
     */
    record Scrapes(int scrapes, int failed, long slowestNanos, String firstFailure) {
        double slowestMillis() {
            return slowestNanos / 1e6;
        }
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    private final HttpRequest request;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "metrics-scraper");
        t.setDaemon(true);
        return t;
    });
    // Written by the timer's one thread only; read after it has terminated.
    private int scrapes;
    private int failed;
    private long slowestNanos;
    private String firstFailure;

    private MetricsScraper(URI metrics, String token) {
        request = HttpRequest.newBuilder(metrics).header("Authorization", "Bearer " + token).timeout(TIMEOUT).GET().build();
    }

    /** Scrapes {@code metrics} now and then every {@link #PERIOD}. */
    static MetricsScraper start(URI metrics, String token) {
        MetricsScraper scraper = new MetricsScraper(metrics, token);
        scraper.timer.scheduleAtFixedRate(scraper::scrape, 0, PERIOD.toMillis(), TimeUnit.MILLISECONDS);
        return scraper;
    }

    private void scrape() {
        scrapes++;
        long start = System.nanoTime();
        String failure;
        try {
            HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
            failure = response.statusCode() == 200 ? null : "status " + response.statusCode();
        } catch (Exception e) { // a timeout or a refused connection is a failed scrape, not the end of the run
            failure = BenchCommand.describe(e);
        }
        slowestNanos = Math.max(slowestNanos, System.nanoTime() - start);
        if (failure != null) {
            failed++;
            firstFailure = firstFailure != null ? firstFailure : failure;
        }
    }

    /** Stops scraping (lets a scrape under way finish) and returns what the scrapes found. */
    Scrapes stop() throws InterruptedException {
        timer.shutdown();
        if (!timer.awaitTermination(TIMEOUT.toSeconds() + 1, TimeUnit.SECONDS)) {
            throw new IllegalStateException("a scrape of the node's metrics did not end within " + TIMEOUT);
        }
        return new Scrapes(scrapes, failed, slowestNanos, firstFailure);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        http.close();
    }
}
