package io.basalt.bridge.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One drive of the node, as {@code GET /api/v1/drives} lists it.
 *
 * @param index     its position in {@code engine.drives} (the CLI's and the API's drive number)
 * @param path      where it is: the replacement's path once the drive was replaced
 * @param sizeBytes bytes of its segment area (0 if it was missing at start)
 * @param state     {@code ok}, {@code failed} or {@code rebuilding}
 * @param reason    why it failed; absent unless failed
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeDrive(int index, String path, long sizeBytes, String state, String reason) {
    public static final String OK = "ok";
    public static final String FAILED = "failed";
    public static final String REBUILDING = "rebuilding";
}
