package io.kvx.store;

/** A running watch; close it to stop delivery. {@code startRevision} is the revision it began at. */
public interface Watch extends AutoCloseable {

  long startRevision();

  @Override
  void close();
}
