package io.edgefleet.transport.tracing;

import io.edgefleet.transport.mqtt.Metadata;
import io.edgefleet.transport.mqtt.UserProperty;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * W3C Trace Context carried in MQTT 5 user properties: {@code traceparent} and {@code tracestate},
 * named and formatted as the HTTP headers are (the W3C "Trace Context: MQTT format" draft does the
 * same). Used on inference requests to the agent, the control plane's commands and the agents'
 * acknowledgements.
 */
public final class TraceHeaders {
    /** The W3C {@code traceparent} field name. */
    public static final String TRACEPARENT = "traceparent";
    /** The W3C {@code tracestate} field name. */
    public static final String TRACESTATE = "tracestate";

    private TraceHeaders() {
    }

    private static final TextMapGetter<Metadata> METADATA = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Metadata m) {
            return m.userProperties().stream().map(UserProperty::key).toList();
        }

        @Override
        public String get(Metadata m, String key) {
            return m == null ? null : m.userProperty(key).orElse(null);
        }
    };

    private static final TextMapGetter<List<Map.Entry<String, String>>> ENTRIES = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(List<Map.Entry<String, String>> l) {
            return l.stream().map(Map.Entry::getKey).toList();
        }

        @Override
        public String get(List<Map.Entry<String, String>> l, String key) {
            return l == null ? null : l.stream().filter(e -> e.getKey().equals(key)).map(Map.Entry::getValue).findFirst().orElse(null);
        }
    };

    /** The context a PUBLISH's user properties carry; {@link Context#root()} when none, or when tracing is off. */
    public static Context extract(Tracing tracing, Metadata m) {
        return tracing.on() ? tracing.extract(m, METADATA) : Context.root();
    }

    /** The context of user properties given as entries; {@link Context#root()} when none, or when tracing is off. */
    public static Context extract(Tracing tracing, List<Map.Entry<String, String>> properties) {
        return tracing.on() ? tracing.extract(properties, ENTRIES) : Context.root();
    }

    /** {@code m} with {@code context}'s {@code traceparent}/{@code tracestate} added; {@code m} itself when tracing is off or the span is not valid. */
    public static Metadata inject(Tracing tracing, Context context, Metadata m) {
        if (!tracing.on()) {
            return m;
        }
        Metadata[] out = {m};
        tracing.inject(context, out, (carrier, k, v) -> carrier[0] = carrier[0].withUserProperty(k, v));
        return out[0];
    }

    /** {@code properties} with {@code context}'s trace fields appended; the same list when tracing is off or the span is not valid. */
    public static List<Map.Entry<String, String>> inject(Tracing tracing, Context context, List<Map.Entry<String, String>> properties) {
        if (!tracing.on()) {
            return properties;
        }
        List<Map.Entry<String, String>> out = new ArrayList<>(properties);
        tracing.inject(context, out, (carrier, k, v) -> carrier.add(Map.entry(k, v)));
        return out;
    }
}
