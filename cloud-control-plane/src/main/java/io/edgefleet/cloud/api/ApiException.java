package io.edgefleet.cloud.api;

import java.util.Map;

/** A failure the API answers as RFC 7807 problem JSON with this status, title and detail (+ extension members). */
public class ApiException extends RuntimeException {
    private final int status;
    private final String title;
    private final Map<String, Object> extensions;

    public ApiException(int status, String title, String detail, Map<String, Object> extensions) {
        super(detail);
        this.status = status;
        this.title = title;
        this.extensions = Map.copyOf(extensions);
    }

    public ApiException(int status, String title, String detail) {
        this(status, title, detail, Map.of());
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public Map<String, Object> extensions() {
        return extensions;
    }
}
