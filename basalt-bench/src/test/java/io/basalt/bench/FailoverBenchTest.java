package io.basalt.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The failover section's summary, from kills made up here (the bench itself needs etcd and three nodes). */
class FailoverBenchTest {

    @Test
    void theSummaryGivesTheMedianAndWorstPauseOfEachLeaseTtl() throws Exception {
        List<FailoverBench.Kill> kills = List.of(
                kill(10, 1, 11_000), kill(10, 2, 10_500), kill(10, 3, 12_250),
                kill(2, 1, 2_400), kill(2, 2, 2_600));
        String md = FailoverBench.markdown(new FailoverBench.Results(kills, List.of(10, 2), "0.5, 0.5, 0.5",
                "0.6, 0.5, 0.5"), "bin/basalt bench --failover");
        assertTrue(md.startsWith(FailoverBench.SECTION_TITLE + "\n"), md);
        assertTrue(md.contains("| 10 s | 3 | 11.00 s | 12.25 s |"), md);
        assertTrue(md.contains("| 2 s | 2 | 2.50 s | 2.60 s |"), md);
        assertTrue(md.contains("| 2 s | 2 | 0.00 s | not seen |"), "a part the watch did not see: " + md);
    }

    @Test
    void theMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertEquals(2.0, FailoverBench.median(new double[]{1, 2, 9}));
        assertEquals(2.5, FailoverBench.median(new double[]{1, 2, 3, 9}));
    }

    private static FailoverBench.Kill kill(int ttl, int round, double pauseMs) {
        return new FailoverBench.Kill(ttl, round, 0, round == 2 && ttl == 2 ? Double.NaN : pauseMs - 300,
                pauseMs - 200, pauseMs - 50, pauseMs, "127.0.0.1:1", "127.0.0.1:2", 9.5);
    }
}
