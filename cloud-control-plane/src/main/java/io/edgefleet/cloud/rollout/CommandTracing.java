package io.edgefleet.cloud.rollout;

import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.transport.mqtt.Metadata;
import io.edgefleet.transport.tracing.TraceHeaders;
import io.edgefleet.transport.tracing.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Links a rollout's commands and the devices' acknowledgements by trace. Each command is sent in a
 * messaging {@code publish} span (producer) whose W3C {@code traceparent} travels in the command's
 * MQTT 5 user properties; the agent processes the command in a child span and sends every ack with
 * that span's {@code traceparent}; each ack is applied here in a {@code process} span (consumer), a
 * child of it. So a command, its run on the device and all its acks (received, downloading,
 * verified, activated, failed) form one trace. When tracing is off nothing is added or read.
 *
 * <p>Span names and attributes follow the OpenTelemetry semantic conventions for messaging
 * ({@code messaging.system=mqtt}, {@code messaging.operation.type}, {@code messaging.destination.name}),
 * with {@code edgefleet.command.id}, {@code edgefleet.rollout.id}, {@code edgefleet.device.id}.
 * Thread-safe; called on the rollout engine's thread (send) and the MQTT session's (acks).
 */
public final class CommandTracing {
    private static final String COMMAND_TEMPLATE = "ef/v1/{fleet}/{device}/cmd";
    private static final String ACK_TEMPLATE = "ef/v1/{fleet}/{device}/cmd/ack";
    private final Tracing tracing;
    private final MessageCodec json = MessageCodec.json();

    public CommandTracing(Tracing tracing) {
        this.tracing = tracing;
    }

    /**
     * Sends one command: {@code send} is given the function that adds the trace fields to the
     * command's user properties (the identity when tracing is off) and returns whether it was sent.
     */
    public boolean send(String topic, byte[] command, Predicate<UnaryOperator<List<Map.Entry<String, String>>>> send) {
        if (!tracing.on()) {
            return send.test(UnaryOperator.identity());
        }
        Span span = tracing.span("publish " + COMMAND_TEMPLATE, SpanKind.PRODUCER, Context.current())
                .setAttribute("messaging.system", "mqtt")
                .setAttribute("messaging.operation.type", "send")
                .setAttribute("messaging.operation.name", "publish")
                .setAttribute("messaging.destination.name", topic)
                .setAttribute("messaging.destination.template", COMMAND_TEMPLATE)
                .startSpan();
        try {
            Command c = json.decode(command, Command.class);
            span.setAttribute("edgefleet.command.id", c.commandId());
            span.setAttribute("edgefleet.command.type", c.type().wire());
            span.setAttribute("edgefleet.model", c.model());
            c.rolloutId().ifPresent(r -> span.setAttribute("edgefleet.rollout.id", r));
        } catch (RuntimeException e) {
            // not a command this version reads: the span still says where it went
        }
        try (Scope s = span.makeCurrent()) {
            boolean sent = send.test(props -> TraceHeaders.inject(tracing, Context.current(), props));
            if (!sent) {
                span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR, "not sent");
            }
            return sent;
        } catch (RuntimeException e) {
            Tracing.failed(span, e);
            throw e;
        } finally {
            span.end();
        }
    }

    /** Applies one acknowledgement ({@code apply}) in a span under the trace its {@code traceparent} names. */
    public void acknowledged(String topic, CommandAck ack, Metadata metadata, Runnable apply) {
        if (!tracing.on()) {
            apply.run();
            return;
        }
        Span span = tracing.span("process " + ACK_TEMPLATE, SpanKind.CONSUMER, TraceHeaders.extract(tracing, metadata))
                .setAttribute("messaging.system", "mqtt")
                .setAttribute("messaging.operation.type", "process")
                .setAttribute("messaging.operation.name", "process")
                .setAttribute("messaging.destination.name", topic)
                .setAttribute("messaging.destination.template", ACK_TEMPLATE)
                .setAttribute("edgefleet.command.id", ack.commandId())
                .setAttribute("edgefleet.device.id", ack.device())
                .setAttribute("edgefleet.ack.phase", ack.phase().wire())
                .startSpan();
        ack.rolloutId().ifPresent(r -> span.setAttribute("edgefleet.rollout.id", r));
        ack.error().ifPresent(e -> span.setAttribute("edgefleet.ack.error", e.code()));
        try (Scope s = span.makeCurrent()) {
            apply.run();
        } catch (RuntimeException e) {
            Tracing.failed(span, e);
            throw e;
        } finally {
            span.end();
        }
    }
}
