package io.basalt.bridge.api;

/**
 * Body of {@code PATCH /api/v1/volumes/{id}}: the mutable properties to change; a null field is left
 * as it is.
 *
 * @param name        the volume's new name, unique within the project (for example when Cinder takes
 *                    over an existing volume and names it after its own volume)
 * @param compression whether blocks written from now on are compressed; blocks already stored keep
 *                    their form
 */
public record UpdateVolumeRequest(String name, Boolean compression) {
}
