package io.edgefleet.cloud.api;

import io.edgefleet.cloud.access.AuditLog;
import io.edgefleet.cloud.access.Principal;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Decides which HTTP calls are audited and writes them to the {@link AuditLog}: every call that is
 * not a read ({@code GET}/{@code HEAD}), every refusal (401, 403) and every call on the token
 * routes. Called once per call by the route wrapper ({@code ApiRoutes}), after the answer's status
 * is known. The remote address is the socket's; {@code X-Forwarded-For} is believed only when the
 * socket's peer is a configured trusted proxy, and then the rightmost address that is not itself a
 * trusted proxy is recorded, as {@code client via proxy}. Thread-safe.
 */
public final class CallAudit {
    private static final System.Logger LOG = System.getLogger(CallAudit.class.getName());
    private final AuditLog log;
    private final Set<String> trustedProxies;

    public CallAudit(AuditLog log, Set<String> trustedProxies) {
        this.log = log;
        this.trustedProxies = Set.copyOf(trustedProxies);
    }

    /** Whether a call with this method, route template and status is recorded. */
    public static boolean audited(String method, String route, int status) {
        return !(method.equals("GET") || method.equals("HEAD")) || status == 401 || status == 403 || route.startsWith("/api/v1/tokens");
    }

    /**
     * Records the call when {@link #audited}; a failure to write is logged, never turned into the
     * caller's error (the call has already been answered).
     *
     * @param who the authenticated caller, empty when none was (401)
     */
    public void record(ServerRequest req, Optional<Principal> who, String route, int status) {
        String method = req.prologue().method().text();
        if (!audited(method, route, status)) {
            return;
        }
        try {
            log.append(who.map(p -> p.kind().wire()).orElse(Principal.Kind.NONE.wire()), who.map(Principal::name).orElse("-"), method, route,
                    req.path().path(), status, remote(req));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "audit row for " + method + " " + route + " not written: " + e.getMessage(), e);
        }
    }

    String remote(ServerRequest req) {
        String peer = address(req.remotePeer().address());
        if (!trustedProxies.contains(peer)) {
            return peer;
        }
        List<String> hops = req.headers().all(HeaderNames.X_FORWARDED_FOR, List::of).stream()
                .flatMap(v -> java.util.Arrays.stream(v.split(","))).map(String::strip).filter(s -> !s.isEmpty()).toList();
        for (int i = hops.size() - 1; i >= 0; i--) {
            if (!trustedProxies.contains(hops.get(i))) {
                return hops.get(i) + " via " + peer;
            }
        }
        return peer;
    }

    private static String address(SocketAddress a) {
        if (a instanceof InetSocketAddress i && i.getAddress() != null) {
            return i.getAddress().getHostAddress();
        }
        return String.valueOf(a);
    }
}
