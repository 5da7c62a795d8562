"""bpviz's file formats: session files (``checkpoint``, built on the zip ``container`` and
the JSON ``codecs``) and the export bundle (``bundle``). No Qt, no pickle."""
