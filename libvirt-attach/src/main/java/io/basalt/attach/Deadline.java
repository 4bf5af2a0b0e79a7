package io.basalt.attach;

import java.time.Duration;
import java.time.Instant;

/** A bound on a polling loop: every wait in this tool ends, either with what it waited for or with an error. */
public final class Deadline {
    private static final Duration POLL = Duration.ofMillis(100);

    private final Instant end;

    private Deadline(Instant end) {
        this.end = end;
    }

    public static Deadline after(Duration timeout) {
        return new Deadline(Instant.now().plus(timeout));
    }

    public boolean expired() {
        return Instant.now().isAfter(end);
    }

    /** Sleeps one polling interval; {@code what} names the wait in the error if interrupted. */
    public void pause(String what) throws AttachException {
        try {
            Thread.sleep(POLL);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AttachException("interrupted while waiting for " + what, e);
        }
    }
}
