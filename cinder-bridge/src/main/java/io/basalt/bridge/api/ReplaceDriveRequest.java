package io.basalt.bridge.api;

/**
 * Body of {@code POST /api/v1/drives/{index}/replace}.
 *
 * @param path the replacement on the node: a block device or file that is blank, or a path where no file
 *             is yet (a file of the other drives' size is created there)
 */
public record ReplaceDriveRequest(String path) {
}
