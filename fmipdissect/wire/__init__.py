"""Wire-level computations shared by every stage: the RFC 1071 checksum with
decision D2's verdict, and the MN-PAR authenticator (decision D5)."""
