package io.edgefleet.transport.mqtt;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The TLS sockets of one {@link javax.net.ssl.SSLContext} with TCP_NODELAY on, as
 * {@link io.edgefleet.transport.net.NoDelaySockets} does for plain ones: a small QoS 1 PUBLISH or
 * PUBACK otherwise waits on Nagle and the peer's delayed ACK.
 */
final class NoDelaySslSockets extends SSLSocketFactory {
    private final SSLSocketFactory delegate;

    NoDelaySslSockets(SSLSocketFactory delegate) {
        this.delegate = delegate;
    }

    private static Socket nodelay(Socket s) throws IOException {
        s.setTcpNoDelay(true);
        return s;
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return delegate.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return delegate.getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket() throws IOException {
        return nodelay(delegate.createSocket());
    }

    @Override
    public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
        return nodelay(delegate.createSocket(s, host, port, autoClose));
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return nodelay(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return nodelay(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return nodelay(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return nodelay(delegate.createSocket(address, port, localAddress, localPort));
    }
}
