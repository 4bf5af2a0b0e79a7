package io.basalt.service.replication;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Which in-sync secondary tries to become primary when, from a record and the live members: the
 * first live in-sync one of {@code nodeIds} at once, the next one a turn later, nobody while the
 * primary is live, never a copy out of sync or a node that is not live. Shown failing without the
 * primary's liveness checked, and with secondaries out of sync or down counted before this one.
 */
class PromotionTurnTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Optional<Duration> NEVER = Optional.empty();
    private static final Optional<Duration> AT_ONCE = Optional.of(Duration.ZERO);
    private static final Optional<Duration> SECOND = Optional.of(Promotion.TURN_SPACING);

    @Test
    void theLiveInSyncSecondariesTakeTurnsInTheOrderOfNodeIds() throws Exception {
        JsonNode record = record("{\"nodeIds\":[\"A\",\"B\",\"C\"]}");
        assertEquals(AT_ONCE, Promotion.turn(record, Set.of("B", "C"), "B"));
        assertEquals(SECOND, Promotion.turn(record, Set.of("B", "C"), "C"));
        assertEquals(AT_ONCE, Promotion.turn(record, Set.of("C"), "C"), "B is down too: C is first");
        assertEquals(NEVER, Promotion.turn(record, Set.of("A", "B", "C"), "B"), "the primary is live");
        assertEquals(NEVER, Promotion.turn(record, Set.of("C"), "B"), "B is not live itself");
        assertEquals(NEVER, Promotion.turn(record, Set.of("B", "C"), "A"), "A is the primary");
        assertEquals(NEVER, Promotion.turn(record, Set.of("B", "C"), "D"), "D holds no copy");
    }

    @Test
    void theRecordsPrimaryAndInSyncSetDecide() throws Exception {
        JsonNode promoted = record("{\"nodeIds\":[\"A\",\"B\",\"C\"],\"primary\":\"B\",\"inSync\":[\"A\",\"B\",\"C\"]}");
        assertEquals(AT_ONCE, Promotion.turn(promoted, Set.of("A", "C"), "A"), "B is the primary: A comes first");
        assertEquals(SECOND, Promotion.turn(promoted, Set.of("A", "C"), "C"));
        assertEquals(NEVER, Promotion.turn(promoted, Set.of("A", "B", "C"), "A"), "B is live");

        JsonNode behind = record("{\"nodeIds\":[\"A\",\"B\",\"C\"],\"inSync\":[\"A\",\"C\"]}");
        assertEquals(NEVER, Promotion.turn(behind, Set.of("B", "C"), "B"), "B's copy is out of sync");
        assertEquals(AT_ONCE, Promotion.turn(behind, Set.of("B", "C"), "C"), "B does not count before C");
        assertEquals(NEVER, Promotion.turn(record("{\"nodeIds\":[]}"), Set.of("B"), "B"), "a record naming no node");
    }

    private static JsonNode record(String json) throws Exception {
        return JSON.readTree(json);
    }
}
