package io.basalt.bench;

/** Where a run is: completions are counted only while measuring, and no new I/O starts once stopping. */
final class Phase {
    static final int WARM_UP = 0;
    static final int MEASURE = 1;
    static final int STOP = 2;

    private volatile int current = WARM_UP;

    int current() {
        return current;
    }

    void set(int phase) {
        current = phase;
    }
}
