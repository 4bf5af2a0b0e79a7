package io.basalt.cli;

import io.basalt.service.config.ByteSize;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * How far a long operation (a big volume's delete; rebuilds and resyncs later) has got, in bytes, on
 * stderr: a bar redrawn in place with percent and ETA on a terminal; otherwise a plain line at most
 * every {@code plainInterval}, so that logs of scripted runs stay readable.
 */
final class Progress implements AutoCloseable {
    /** bin/basalt sets it from {@code [[ -t 2 ]]}: Java 21 cannot tell whether stderr is a terminal. */
    static final String TERMINAL_PROPERTY = "basalt.stderr.terminal";
    private static final int BAR_WIDTH = 30;
    private static final Duration PLAIN_INTERVAL = Duration.ofSeconds(5);

    private final PrintWriter err;
    private final String what;
    private final long total;
    private final boolean terminal;
    private final LongSupplier nanoTime;
    private final Duration plainInterval;
    private final long start;
    private long done;
    private long lastPlainLine;

    Progress(PrintWriter err, String what, long total, boolean terminal, LongSupplier nanoTime, Duration plainInterval) {
        this.err = err;
        this.what = what;
        this.total = Math.max(0, total);
        this.terminal = terminal;
        this.nanoTime = nanoTime;
        this.plainInterval = plainInterval;
        this.start = nanoTime.getAsLong();
        this.lastPlainLine = start;
    }

    static Progress onStderr(PrintWriter err, String what, long total) {
        return new Progress(err, what, total, onTerminal(), System::nanoTime, PLAIN_INTERVAL);
    }

    /** Whether stderr is a terminal, where a bar costs nothing to look at even for a short operation. */
    static boolean onTerminal() {
        return Boolean.getBoolean(TERMINAL_PROPERTY);
    }

    /** {@code done} bytes of the total so far; values outside 0..total are clamped (estimates may overshoot). */
    void update(long done) {
        this.done = Math.clamp(done, 0, total);
        long now = nanoTime.getAsLong();
        if (terminal) {
            err.print("\r" + render(now));
            err.flush();
        } else if (now - lastPlainLine >= plainInterval.toNanos()) {
            lastPlainLine = now;
            err.println(render(now));
            err.flush();
        }
    }

    /** Ends the bar's line on a terminal, or prints the final state as a plain line. */
    @Override
    public void close() {
        long now = nanoTime.getAsLong();
        if (terminal) {
            err.println("\r" + render(now));
        } else {
            err.println(render(now));
        }
        err.flush();
    }

    String render(long now) {
        double fraction = total == 0 ? 1 : (double) done / total;
        int percent = (int) (100 * fraction);
        String amount = ByteSize.format(done) + " of " + ByteSize.format(total);
        String eta = done == 0 || done == total ? "" : ", about " + eta(now) + " left";
        if (!terminal) {
            return what + ": " + percent + "% (" + amount + eta + ")";
        }
        int filled = (int) (BAR_WIDTH * fraction);
        return String.format(Locale.ROOT, "%s [%s%s] %3d%% %s%s", what, "#".repeat(filled),
                ".".repeat(BAR_WIDTH - filled), percent, amount, eta);
    }

    private String eta(long now) {
        long elapsedSeconds = (now - start) / 1_000_000_000L;
        long seconds = elapsedSeconds * (total - done) / done;
        return seconds >= 60 ? seconds / 60 + " min " + seconds % 60 + " s" : seconds + " s";
    }
}
