package io.edgefleet.transport.tracing;

import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The {@code tracing:} node of {@code agent.yaml} and {@code cloud.yaml}, overlaid by the standard
 * OpenTelemetry environment variables. Tracing is off unless enabled.
 *
 * <table>
 * <caption>keys and variables</caption>
 * <tr><th>key</th><th>variable (wins over the file)</th><th>default</th></tr>
 * <tr><td>{@code enabled}</td><td>{@code OTEL_TRACES_EXPORTER=otlp|none}, {@code OTEL_SDK_DISABLED=true}</td><td>false</td></tr>
 * <tr><td>{@code otlp-endpoint}</td><td>{@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} (the full URL),
 *     {@code OTEL_EXPORTER_OTLP_ENDPOINT} (a base URL, {@code /v1/traces} appended)</td><td>{@code http://localhost:4318/v1/traces}</td></tr>
 * <tr><td>{@code sampler-ratio}</td><td>{@code OTEL_TRACES_SAMPLER_ARG}</td><td>1.0</td></tr>
 * <tr><td>{@code service-name}</td><td>{@code OTEL_SERVICE_NAME}</td><td>the component's ({@code edgefleet-agent}, {@code edgefleet-cloud})</td></tr>
 * </table>
 *
 * <p>{@code otlp-endpoint} in the file is a base URL like the OTLP exporter's
 * {@code OTEL_EXPORTER_OTLP_ENDPOINT}: {@code http://collector:4318} exports to
 * {@code http://collector:4318/v1/traces}; a URL that already ends in {@code /v1/traces} is kept.
 *
 * @param enabled whether spans are recorded and exported; when false the tracer is a no-op and nothing of the SDK is built
 * @param otlpTracesEndpoint where OTLP/HTTP (protobuf) span batches are POSTed, the full URL
 * @param samplerRatio share of new traces recorded, 0..1 (parent-based: a request whose caller sampled it is always recorded)
 * @param serviceName the {@code service.name} resource attribute
 */
public record TracingSettings(boolean enabled, URI otlpTracesEndpoint, double samplerRatio, String serviceName) {
    /** OTLP/HTTP's default port and path (OpenTelemetry protocol exporter specification). */
    public static final URI DEFAULT_ENDPOINT = URI.create("http://localhost:4318/v1/traces");

    public TracingSettings {
        Objects.requireNonNull(otlpTracesEndpoint, "otlpTracesEndpoint");
        if (!(samplerRatio >= 0 && samplerRatio <= 1)) {
            throw new IllegalArgumentException("tracing.sampler-ratio must be between 0 and 1, got " + samplerRatio);
        }
        String scheme = otlpTracesEndpoint.getScheme();
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || otlpTracesEndpoint.getHost() == null) {
            throw new IllegalArgumentException("tracing.otlp-endpoint must be an http:// or https:// URL, got '" + otlpTracesEndpoint + "'");
        }
        if (serviceName == null || serviceName.isBlank()) {
            throw new IllegalArgumentException("tracing.service-name must not be empty");
        }
    }

    /** Off, with the defaults. */
    public static TracingSettings off(String serviceName) {
        return new TracingSettings(false, DEFAULT_ENDPOINT, 1.0, serviceName);
    }

    /** These settings, on, exporting to {@code endpoint} (a base URL or the full traces URL). */
    public TracingSettings enabledTo(URI endpoint) {
        return new TracingSettings(true, tracesUrl(endpoint.toString()), samplerRatio, serviceName);
    }

    /**
     * Reads the settings from a configuration node, then applies the OTEL_* variables.
     *
     * @param key the value of a key under the {@code tracing} node ({@code enabled}, {@code otlp-endpoint}, ...)
     * @param env the process environment ({@code System.getenv()})
     * @param defaultServiceName {@code service.name} when neither the file nor {@code OTEL_SERVICE_NAME} sets one
     * @throws IllegalArgumentException naming the key and the rule, for a value that does not fit
     */
    public static TracingSettings read(Function<String, Optional<String>> key, Map<String, String> env, String defaultServiceName) {
        boolean enabled = key.apply("enabled").map(v -> bool("tracing.enabled", v)).orElse(false);
        URI endpoint = key.apply("otlp-endpoint").map(TracingSettings::tracesUrl).orElse(DEFAULT_ENDPOINT);
        double ratio = key.apply("sampler-ratio").map(v -> ratio("tracing.sampler-ratio", v)).orElse(1.0);
        String service = key.apply("service-name").filter(s -> !s.isBlank()).orElse(defaultServiceName);
        String exporter = env.getOrDefault("OTEL_TRACES_EXPORTER", "").strip().toLowerCase(Locale.ROOT);
        if (exporter.equals("otlp")) {
            enabled = true;
        } else if (exporter.equals("none")) {
            enabled = false;
        }
        if (env.getOrDefault("OTEL_SDK_DISABLED", "").strip().equalsIgnoreCase("true")) {
            enabled = false;
        }
        if (present(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
            endpoint = url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").strip());
        } else if (present(env, "OTEL_EXPORTER_OTLP_ENDPOINT")) {
            endpoint = tracesUrl(env.get("OTEL_EXPORTER_OTLP_ENDPOINT"));
        }
        if (present(env, "OTEL_TRACES_SAMPLER_ARG")) {
            ratio = ratio("OTEL_TRACES_SAMPLER_ARG", env.get("OTEL_TRACES_SAMPLER_ARG"));
        }
        if (present(env, "OTEL_SERVICE_NAME")) {
            service = env.get("OTEL_SERVICE_NAME").strip();
        }
        return new TracingSettings(enabled, endpoint, ratio, service);
    }

    private static boolean present(Map<String, String> env, String name) {
        return env.get(name) != null && !env.get(name).isBlank();
    }

    /** A base URL gets OTLP/HTTP's {@code /v1/traces}; a URL already ending in it is kept. */
    static URI tracesUrl(String base) {
        String b = base.strip();
        if (b.endsWith("/v1/traces")) {
            return url("tracing.otlp-endpoint", b);
        }
        return url("tracing.otlp-endpoint", (b.endsWith("/") ? b.substring(0, b.length() - 1) : b) + "/v1/traces");
    }

    private static URI url(String name, String v) {
        try {
            return URI.create(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + " must be a URL, got '" + v + "'");
        }
    }

    private static boolean bool(String name, String v) {
        return switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(name + " must be true or false, got '" + v + "'");
        };
    }

    private static double ratio(String name, String v) {
        try {
            double d = Double.parseDouble(v.strip());
            if (d >= 0 && d <= 1) {
                return d;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be a number between 0 and 1, got '" + v + "'");
    }
}
