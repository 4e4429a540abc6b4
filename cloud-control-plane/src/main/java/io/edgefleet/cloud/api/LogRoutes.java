package io.edgefleet.cloud.api;

import io.edgefleet.cloud.access.Scope;
import io.edgefleet.cloud.store.LogRepository;
import io.edgefleet.protocols.Checks;
import io.edgefleet.transport.logging.LogLevels;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;

/**
 * Central logs in the API (scope {@code fleet:read}, so viewers too), registered through
 * {@link ApiRoutes#register} (authentication, problem JSON, audit):
 * <ul>
 * <li>{@code GET /api/v1/logs?device=ID&fleet=F&trace_id=T&level=WARN&since=ISO|-15m&limit=N}: records
 *     of every device, newest first;</li>
 * <li>{@code GET /api/v1/devices/{id}/logs} (same filters but device) and
 *     {@code GET /api/v1/fleets/{f}/devices/{d}/logs}: one device's, with what its agent reported it
 *     did not forward ({@code "not_forwarded": {"dropped_records": N, "lost_batches": N}}).</li>
 * </ul>
 * Answer: {@code {"records":[{"device","fleet","time","level","logger","thread","message","exception"?,
 * "trace_id"?,"span_id"?}...]}}. {@code level} is the lowest level returned (WARN: WARN and ERROR);
 * {@code limit} 1..10000, default 100. A bad parameter is a 400 problem naming it.
 */
public final class LogRoutes {
    private static final int MAX_LIMIT = 10_000;
    private final LogRepository logs;
    private final Clock clock;

    public LogRoutes(LogRepository logs, Clock clock) {
        this.logs = logs;
        this.clock = clock;
    }

    /** Registers the routes on {@code api}; call before {@link ApiRoutes#routing} (its catch-all answers 404). */
    public void routing(HttpRouting.Builder r, ApiRoutes api) {
        api.register(r, Method.GET, "/api/v1/logs", Scope.FLEET_READ, (q, s, t) ->
                send(s, Map.of("records", json(logs.find(query(q, q.query().first("fleet").asOptional(), q.query().first("device").asOptional()))))));
        api.register(r, Method.GET, "/api/v1/devices/{id}/logs", Scope.FLEET_READ, (q, s, t) ->
                device(q, s, q.query().first("fleet").asOptional(), q.path().pathParameters().get("id")));
        api.register(r, Method.GET, "/api/v1/fleets/{f}/devices/{d}/logs", Scope.FLEET_READ, (q, s, t) ->
                device(q, s, Optional.of(id(q.path().pathParameters().get("f"), "fleet")), q.path().pathParameters().get("d")));
    }

    private void device(ServerRequest q, ServerResponse s, Optional<String> fleet, String device) throws Exception {
        String d = id(device, "device");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("records", json(logs.find(query(q, fleet, Optional.of(d)))));
        out.put("not_forwarded", logs.losses(fleet, d));
        send(s, out);
    }

    private LogRepository.Query query(ServerRequest q, Optional<String> fleet, Optional<String> device) {
        fleet.ifPresent(f -> id(f, "fleet"));
        device.ifPresent(d -> id(d, "device"));
        Optional<String> trace = q.query().first("trace_id").asOptional().map(String::strip);
        trace.ifPresent(x -> {
            if (!x.matches("[0-9a-f]{32}")) {
                throw new ApiException(400, "Bad parameter", "trace_id must be 32 lower-case hex digits (W3C trace context), got '"
                        + Checks.printable(x) + "'");
            }
        });
        Optional<Level> level = q.query().first("level").asOptional().map(x -> {
            try {
                return LogLevels.parse(x);
            } catch (IllegalArgumentException e) {
                throw new ApiException(400, "Bad parameter", "level: " + e.getMessage());
            }
        });
        int limit = 100;
        Optional<String> l = q.query().first("limit").asOptional();
        if (l.isPresent()) {
            try {
                limit = Integer.parseInt(l.get());
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_LIMIT) {
                throw new ApiException(400, "Bad parameter", "limit must be an integer in 1.." + MAX_LIMIT + ", got '" + Checks.printable(l.get()) + "'");
            }
        }
        return new LogRepository.Query(fleet, device, trace, level,
                q.query().first("since").asOptional().map(x -> ApiRoutes.time(x, clock.instant(), "since")), limit);
    }

    private static String id(String value, String name) {
        if (value == null || !Checks.ID.matcher(value).matches()) {
            throw new ApiException(400, "Bad parameter", name + " '" + Checks.printable(String.valueOf(value)) + "': " + Checks.ID_RULE);
        }
        return value;
    }

    private static List<Map<String, Object>> json(List<LogRepository.Stored> records) {
        return records.stream().map(LogRepository.Stored::json).toList();
    }

    private static void send(ServerResponse res, Object body) throws Exception {
        res.status(Status.OK_200).header(HeaderNames.CONTENT_TYPE, "application/json").send(ApiRoutes.MAPPER.writeValueAsBytes(body));
    }
}
