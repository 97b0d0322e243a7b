package io.kvx.proxy;

/**
 * One backend address of a service port, with the port its EndpointSlice resolved for it and the
 * slice's conditions: {@code ready} endpoints get traffic; when a port has none, the ones still
 * {@code serving} while {@code terminating} do (kube-proxy's terminating-endpoints fallback).
 */
public record Endpoint(String ip, int port, boolean ready, boolean serving, boolean terminating)
    implements Comparable<Endpoint> {

  /** An endpoint that is not terminating: serving exactly when ready. */
  public Endpoint(String ip, int port, boolean ready) {
    this(ip, port, ready, ready, false);
  }

  @Override
  public int compareTo(Endpoint o) {
    int c = ip.compareTo(o.ip);
    return c != 0 ? c : Integer.compare(port, o.port);
  }

  @Override
  public String toString() {
    return ip + ":" + port;
  }
}
