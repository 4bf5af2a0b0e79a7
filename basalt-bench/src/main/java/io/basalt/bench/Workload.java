package io.basalt.bench;

import java.util.Locale;

/** The I/O pattern of a run, named as fio names them. */
enum Workload {
    RANDREAD(true, true),
    RANDWRITE(false, true),
    READ(true, false),
    WRITE(false, false);

    final boolean read;
    final boolean random;

    Workload(boolean read, boolean random) {
        this.read = read;
        this.random = random;
    }

    static Workload parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--rw must be randread, randwrite, read or write, not " + name);
        }
    }

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
