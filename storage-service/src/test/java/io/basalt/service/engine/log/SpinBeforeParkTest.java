package io.basalt.service.engine.log;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The log writer stops spinning when its spins keep finding no work (a replicated write's next one
 * comes after a network round trip) and starts again when a probe finds work. Shown failing with the
 * policy reverted to spinning before every park, as the writer did before: that cost a replicated
 * write half its IOPS on the two-core benchmark machine.
 */
class SpinBeforeParkTest {

    @Test
    void keepsSpinningWhileSpinsFindWork() {
        SpinBeforePark spin = new SpinBeforePark();
        for (int i = 0; i < 10 * SpinBeforePark.PROBE_EVERY; i++) {
            assertTrue(spin.shouldSpin(), "wait " + i);
            spin.spun(true);
        }
    }

    @Test
    void parksAtOnceAfterMissesInARowProbingNowAndThen() {
        SpinBeforePark spin = new SpinBeforePark();
        missUntilStopped(spin);
        int spins = 0;
        int waits = 10 * SpinBeforePark.PROBE_EVERY;
        for (int i = 0; i < waits; i++) {
            if (spin.shouldSpin()) {
                spins++;
                spin.spun(false);
            }
        }
        assertEquals(waits / SpinBeforePark.PROBE_EVERY, spins, "only the probes spin");
    }

    @Test
    void aProbeThatFindsWorkBringsSpinningBack() {
        SpinBeforePark spin = new SpinBeforePark();
        missUntilStopped(spin);
        int waits = 0;
        while (!spin.shouldSpin()) {
            waits++;
        }
        assertEquals(SpinBeforePark.PROBE_EVERY - 1, waits, "waits parked at once before the probe");
        spin.spun(true);
        for (int i = 0; i < SpinBeforePark.MISSES_TO_STOP; i++) {
            assertTrue(spin.shouldSpin(), "wait " + i + " after the probe found work");
            spin.spun(false);
        }
    }

    private static void missUntilStopped(SpinBeforePark spin) {
        for (int i = 0; i < SpinBeforePark.MISSES_TO_STOP; i++) {
            assertTrue(spin.shouldSpin(), "miss " + i);
            spin.spun(false);
        }
    }
}
