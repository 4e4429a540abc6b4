package io.edgefleet.transport.net;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.SocketFactory;

/**
 * Plain TCP sockets with {@code TCP_NODELAY}. Paho leaves Nagle's algorithm on and writes an
 * MQTT packet in more than one {@code write}, so with the peer's delayed ACK every small
 * request/response exchange waits about 40 ms per hop: we measured 88 ms per MQTT inference
 * round trip on loopback without this, about 1 ms with it.
 */
public final class NoDelaySockets extends SocketFactory {
    private static final SocketFactory DEFAULT = SocketFactory.getDefault();

    private static Socket nodelay(Socket s) throws IOException {
        s.setTcpNoDelay(true);
        return s;
    }

    @Override
    public Socket createSocket() throws IOException {
        return nodelay(DEFAULT.createSocket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return nodelay(DEFAULT.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return nodelay(DEFAULT.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return nodelay(DEFAULT.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return nodelay(DEFAULT.createSocket(address, port, localAddress, localPort));
    }
}
