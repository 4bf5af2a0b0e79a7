package io.basalt.bridge.api;

/**
 * Body of {@code GET /api/v1/health}.
 *
 * @param status  "ok" when the service answers
 * @param volumes how many volumes the service holds
 */
public record Health(String status, int volumes) {
}
