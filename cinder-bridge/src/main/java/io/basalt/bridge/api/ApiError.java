package io.basalt.bridge.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Body of every error response.
 *
 * @param error what went wrong, for a human
 * @param field the request field at fault; absent when the error is not about one field
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ApiError(String error, String field) {
}
