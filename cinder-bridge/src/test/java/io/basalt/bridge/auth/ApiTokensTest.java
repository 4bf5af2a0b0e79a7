package io.basalt.bridge.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ApiTokensTest {
    private final ApiTokens tokens = ApiTokens.of("admin-secret", Map.of("alpha", "alpha-secret", "beta", "beta-secret"));

    @Test
    void eachTokenSpeaksForItsCaller() {
        assertEquals(Optional.of(new Caller.Admin()), tokens.authenticate("admin-secret"));
        assertEquals(Optional.of(new Caller.Member("alpha")), tokens.authenticate("alpha-secret"));
        assertEquals(Optional.of(new Caller.Member("beta")), tokens.authenticate("beta-secret"));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"admin-secre", "admin-secret ", "ADMIN-SECRET", "admin-secretx", "alpha"})
    void anythingElseIsUnknown(String token) {
        assertEquals(Optional.empty(), tokens.authenticate(token));
    }

    @Test
    void theAdminMayUseEveryProjectAndAMemberOnlyItsOwn() {
        assertTrue(new Caller.Admin().mayUse("anything"));
        assertTrue(new Caller.Member("alpha").mayUse("alpha"));
        assertFalse(new Caller.Member("alpha").mayUse("beta"));
        assertFalse(new Caller.Member("alpha").mayUse("default"));
    }

    @Test
    void projectTokensAreOptional() {
        assertEquals(Optional.of(new Caller.Admin()), ApiTokens.of("t", Map.of()).authenticate("t"));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"   ", "with space", "tab\tinside", "caf\u00e9"})
    void theAdminTokenMustBeAUsableBearerToken(String admin) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ApiTokens.of(admin, Map.of()));
        assertTrue(e.getMessage().contains("api.admin-token"), e.getMessage());
    }

    @Test
    void projectEntriesAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> ApiTokens.of("a", Map.of("bad name", "t")));
        assertThrows(IllegalArgumentException.class, () -> ApiTokens.of("a", Map.of("..", "t")));
        assertThrows(IllegalArgumentException.class, () -> ApiTokens.of("a", Map.of("p", " ")));
        IllegalArgumentException shared = assertThrows(IllegalArgumentException.class,
                () -> ApiTokens.of("a", Map.of("p", "t", "q", "t")));
        assertTrue(shared.getMessage().contains("distinct"), shared.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ApiTokens.of("a", Map.of("p", "a")));
    }
}
