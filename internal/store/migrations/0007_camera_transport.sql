-- Transport per camera (MED-1): how the recorder asks for RTP — auto (UDP,
-- falling back to TCP), tcp (interleaved), udp or multicast.
ALTER TABLE cameras ADD COLUMN transport TEXT NOT NULL DEFAULT 'auto';
