package io.edgefleet.transport.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * A listening port that could not be bound (in use, reserved, or an address this host does not
 * have). Final: the process cannot serve what it was asked to, so it stops with this message,
 * which names the protocol, the address and the setting that chose it, e.g.
 * {@code HTTP port 8000 on 127.0.0.1 is not available (Address already in use); choose another with agent.http.port / --http-port}.
 */
public final class PortUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int port;
    private final String setting;

    /**
     * @param protocol what listens, e.g. {@code HTTP} or {@code CoAP (UDP)}
     * @param setting the configuration key and flag that chose the port
     * @param cause the bind failure, whose message (not its stack) is quoted; may be null
     */
    public PortUnavailableException(String protocol, String host, int port, String setting, Throwable cause) {
        super(protocol + " port " + port + " on " + host + " is not available ("
                + (cause == null || cause.getMessage() == null ? "bind failed" : cause.getMessage())
                + "); choose another with " + setting, cause);
        this.port = port;
        this.setting = setting;
    }

    public int port() {
        return port;
    }

    /** The configuration key and flag that chose the port. */
    public String setting() {
        return setting;
    }

    /**
     * Binds a TCP listener on {@code host:port} and releases it at once, so that a server about to
     * start there fails before it logs its own stack trace. The server must still check that it
     * bound (another process may take the port in between). Port 0 (any free one) is not checked.
     *
     * @throws PortUnavailableException when the bind fails
     */
    public static void requireTcp(String protocol, String host, int port, String setting) {
        if (port == 0) {
            return;
        }
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true); // as the servers do: a port in TIME_WAIT is free
            s.bind(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new PortUnavailableException(protocol, host, port, setting, e);
        }
    }
}
