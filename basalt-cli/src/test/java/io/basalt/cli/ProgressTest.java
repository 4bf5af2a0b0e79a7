package io.basalt.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressTest {
    private static final long GIB = 1L << 30;
    private final StringWriter text = new StringWriter();
    private final AtomicLong now = new AtomicLong();

    private Progress progress(boolean terminal) {
        return new Progress(new PrintWriter(text), "deleting db", 4 * GIB, terminal, now::get, Duration.ofSeconds(5));
    }

    @Test
    void onATerminalTheBarIsRedrawnInPlaceWithPercentAndEta() {
        try (Progress p = progress(true)) {
            now.set(10_000_000_000L);
            p.update(GIB);
        }
        String[] draws = text.toString().split("\r");
        assertEquals("deleting db [#######.......................]  25% 1GiB of 4GiB, about 30 s left", draws[1]);
        assertEquals(draws[1] + "\n", draws[2], "closing ends the bar's line");
    }

    @Test
    void elsewhereAPlainLineAtMostEveryInterval() {
        try (Progress p = progress(false)) {
            now.set(1_000_000_000L);
            p.update(GIB / 2);
            now.set(6_000_000_000L);
            p.update(2 * GIB);
            now.set(7_000_000_000L);
            p.update(3 * GIB);
            now.set(8_000_000_000L);
            p.update(4 * GIB);
        }
        assertEquals("""
                deleting db: 50% (2GiB of 4GiB, about 6 s left)
                deleting db: 100% (4GiB of 4GiB)
                """, text.toString());
    }

    @Test
    void estimatesBeyondTheTotalAreClamped() {
        try (Progress p = progress(false)) {
            p.update(-5);
            p.update(9 * GIB);
        }
        assertTrue(text.toString().endsWith("deleting db: 100% (4GiB of 4GiB)\n"), text.toString());
    }
}
