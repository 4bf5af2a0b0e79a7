package io.basalt.bridge.api;

/**
 * Body of {@code GET /api/v1/health}. It carries nothing but the status because it needs no token.
 *
 * @param status "ok" when the service answers
 */
public record Health(String status) {
    public static final Health OK = new Health("ok");
}
