"""The checker's rule registry: stable ids, slugs, severities, RFC sections.

Every rule has a stable id (never reused or renumbered), a slug, a severity
chosen by decision D10 (MUST -> error; SHOULD and "sent as zero, ignored on
reception" -> warning; observations -> info), the RFC 4988 section it
enforces, a one-line summary and a short why, and the words its findings
say (with its Wireshark expert group and whether parsing stops after it).
The checker, the Lua dissector's expert infos and docs/rules.md all read
this table.

Id ranges: FM1xx FBU/FBAck (Mobile IPv4 messages), FM2xx ICMP type 41
messages, FM3xx options and extensions, FM4xx across packets, FM5xx
authenticators, FM9xx the capture itself.
"""

from __future__ import annotations

from .rule import (CHECKSUM, ERROR, INFO, MALFORMED, PROTOCOL,  # noqa: F401
                   SEQUENCE, SEVERITIES, WARNING, Rule)



# --- Rule ids: the only place they are written (named after the slugs) ---

FBU_LIFETIME_OVER_LIMIT = "FM101"
FBU_S_B_FLAGS_SET = "FM102"
FBU_RESERVED_FLAGS_SET = "FM103"
AUTH_EXTENSION_MISSING = "FM104"
AUTH_EXTENSION_WRONG_SUBTYPE = "FM105"
FBACK_NCOA_OPTION_MISSING = "FM107"
FBACK_NCOA_OCTET_LENGTH = "FM108"
FBACK_NCOA_AFTER_AUTH = "FM109"
MIP_EXTENSION_UNKNOWN = "FM110"
ICMP_CHECKSUM_BAD = "FM201"
ICMP_CHECKSUM_PLAIN_SUM = "FM202"
ICMP_RESERVED_NOT_ZERO = "FM203"
ICMP_UNKNOWN_SUBTYPE = "FM204"
UNKNOWN_CODE = "FM205"
RTSOLPR_NEW_AP_LLA_MISSING = "FM206"
PRRTADV_REQUIRED_OPTION_MISSING = "FM207"
PRRTADV_OPTION_ORDER = "FM208"
PRRTADV_REASON_CODE_MISSING = "FM209"
PRRTADV_UNSOLICITED_IDENTIFIER = "FM210"
HI_REQUIRED_OPTION_MISSING = "FM212"
HI_REACTIVE_S_FLAG = "FM213"
HI_REACTIVE_U_FLAG = "FM214"
ICMP_TTL_ZERO = "FM215"
PRRTADV_TUPLE_PREFIX_MISSING = "FM216"
TRUNCATED_MESSAGE = "FM301"
OPTION_LENGTH_ZERO = "FM302"
OPTION_PAST_END = "FM303"
LLA_BAD_PADDING = "FM304"
OPTION_UNKNOWN_TYPE = "FM305"
OPTION_UNKNOWN_CODE = "FM306"
OPTION_RESERVED_NOT_ZERO = "FM307"
OPTION_BAD_LENGTH = "FM308"
PREFIX_LENGTH_OVER_32 = "FM309"
FBACK_WITHOUT_FBU = "FM401"
FBACK_IDENTIFICATION_MISMATCH = "FM402"
FBU_UNACKNOWLEDGED = "FM403"
HACK_WITHOUT_HI = "FM404"
HI_UNANSWERED = "FM405"
PRRTADV_WITHOUT_RTSOLPR = "FM406"
RTSOLPR_UNANSWERED = "FM407"
HACK_NCOA_OPTION_MISSING = "FM409"
FBU_ROLE_UNKNOWN = "FM410"
FORWARDED_FBU_DIFFERS = "FM411"
HI_CODE_MISMATCH = "FM412"
FBACK_WRONG_DESTINATION = "FM413"
FBACK_WRONG_PORT = "FM414"
FBU_COA_NOT_NAR = "FM415"
FBACK_LIFETIME_EXCEEDS_REQUEST = "FM416"
FBU_IDENTIFICATION_REUSED = "FM417"
HI_HACK_WITHOUT_IPSEC = "FM418"
HACK_IDENTIFIER_MISMATCH = "FM419"
PRRTADV_IDENTIFIER_MISMATCH = "FM420"
FBACK_HOME_AGENT_NOT_PAR = "FM421"
FBACK_NCOA_DROPPED = "FM422"
FBACK_NCOA_DIFFERS = "FM423"
AUTH_AUTHENTICATOR_BAD = "FM501"
AUTH_UNKNOWN_SPI = "FM502"
AUTH_SPI_RESERVED = "FM503"
CAPTURE_TRUNCATED = "FM901"
FRAGMENT_NOT_REASSEMBLED = "FM902"
PACKET_CLIPPED = "FM903"
SESSION_STATE_CAPPED = "FM904"
TUNNEL_TOO_DEEP = "FM905"


RULES: tuple[Rule, ...] = (
    # --- FBU / FBAck ---------------------------------------------------
    Rule(FBU_LIFETIME_OVER_LIMIT, "fbu-lifetime-over-limit", ERROR, "5.1",
         "FBU Lifetime exceeds 10 seconds",
         "RFC 4988 5.1: the Lifetime 'MUST NOT exceed 10 seconds'. A non-zero "
         "high octet (the figure's 'reserved' label, decision D1) also counts.",
         message="Lifetime {lifetime} s exceeds {limit} s{note}"),
    Rule(FBU_S_B_FLAGS_SET, "fbu-s-b-flags-set", WARNING, "5.1",
         "FBU has the S or B flag set",
         "RFC 4988 5.1: the 'S' and 'B' flags of RFC 3344 are sent as zero "
         "and ignored on reception (decision D10: warning).",
         message="{abbrev} flag{plural} {names} set (flags {flags}); sent "
                 "as zero"),
    Rule(FBU_RESERVED_FLAGS_SET, "fbu-reserved-flags-set", WARNING, "5.1",
         "FBU has a reserved flag bit (r or x) set",
         "RFC 3344 3.3: r and x are sent as zero, ignored on reception.",
         message="{abbrev} flag{plural} {names} set (flags {flags}); sent "
                 "as zero"),
    Rule(AUTH_EXTENSION_MISSING, "auth-extension-missing", ERROR, "5.1",
         "FBU or FBAck without the MN-PAR Authentication Extension",
         "RFC 4988 5.1, 5.2, 7: the MN-PAR Authentication Extension MUST be "
         "present in each FBU and FBAck.",
         message="{abbrev} carries no MN-PAR Authentication Extension"),
    Rule(AUTH_EXTENSION_WRONG_SUBTYPE, "auth-extension-wrong-subtype", ERROR, "8",
         "Generalized Authentication Extension with a subtype other than "
         "MN-PAR (4)",
         "RFC 4988 8: FBU and FBAck are protected by the MN-PAR subtype (4); "
         "another subtype does not authenticate the MN to PAR.",
         message="{abbrev} Generalized Authentication Extension has subtype "
                 "{subtypes}, not MN-PAR ({mn_par})"),
    Rule(FBACK_NCOA_OPTION_MISSING, "fback-ncoa-option-missing", ERROR, "5.2",
         "FBAck code 1 without a New IPv4 Address option with Option-Code 2",
         "RFC 4988 5.2: the NCoA option MUST be present when NAR supplies the "
         "NCoA (decision D4).",
         message="{abbrev}{with_code} lacks the {label}"),
    Rule(FBACK_NCOA_OCTET_LENGTH, "fback-ncoa-octet-length", WARNING, "5.2",
         "NCoA option in FBAck framed with Length 6 (octets) instead of 1",
         "decision D4: the option keeps the 8-octet layout of RFC 4988 6.2, "
         "Length 1 in 8-octet units; Length 6 is tolerated.",
         message="NCoA option at offset {offset} has Length {length} "
                 "(octets), not {units} (8-octet units)"),
    Rule(FBACK_NCOA_AFTER_AUTH, "fback-ncoa-after-auth", WARNING, "5.2",
         "NCoA option placed after the MN-PAR Authentication Extension",
         "decision D4: placed after the authenticator, the NCoA is not covered "
         "by it.",
         message="NCoA option at offset {offset} follows the MN-PAR "
                 "Authentication Extension (offset {auth_offset}) and is "
                 "not covered by it"),
    Rule(MIP_EXTENSION_UNKNOWN, "mip-extension-unknown", WARNING, "5.1",
         "Unknown non-skippable Mobile IPv4 extension (type 0-127)",
         "RFC 3344 1.9: a receiver discards a message with an unknown "
         "non-skippable extension.",
         message="unknown non-skippable extension type {type} at offset "
                 "{offset}"),
    # --- ICMP type 41 messages -----------------------------------------
    Rule(ICMP_CHECKSUM_BAD, "icmp-checksum-bad", ERROR, "5.3",
         "ICMP checksum is wrong",
         "RFC 4988 5.3-5.6 (decision D2): the checksum is computed with the "
         "Checksum and Reserved fields set to zero.",
         message="{abbrev} checksum {checksum} is wrong; with Checksum and "
                 "Reserved zeroed it is {expected} (decision D2)",
         group=CHECKSUM),
    Rule(ICMP_CHECKSUM_PLAIN_SUM, "icmp-checksum-plain-sum", WARNING, "5.3",
         "ICMP checksum computed over the non-zero Reserved bits",
         "decision D2: the checksum matches the plain sum as sent but not the "
         "RFC's computation with Reserved zeroed.",
         message="{abbrev} checksum {checksum} is the plain sum over the "
                 "non-zero Reserved bits; with Reserved zeroed it is "
                 "{expected} (decision D2)",
         group=CHECKSUM),
    Rule(ICMP_RESERVED_NOT_ZERO, "icmp-reserved-not-zero", WARNING, "5.3",
         "Reserved field or bits of an ICMP message not zero",
         "RFC 4988 5.3-5.6: Reserved is set to zero by the sender and ignored "
         "by the receiver (decision D10: warning).",
         message="{abbrev} Reserved bits {reserved} are not zero"),
    Rule(ICMP_UNKNOWN_SUBTYPE, "icmp-unknown-subtype", INFO, "8",
         "ICMP type 41 with a subtype that is not FMIPv4 (6-9)",
         "RFC 4065 3: other experimental mobility protocols share type 41; "
         "the message is not checked.",
         message="ICMP type {type} subtype {subtype} is not an FMIPv4 "
                 "message (subtypes {subtypes}); not checked",
         wireshark=False),
    Rule(UNKNOWN_CODE, "unknown-code", WARNING, "5",
         "Code value not defined for this message",
         "RFC 4988 5.2-5.6 list the codes each message may carry.",
         message="{abbrev} Code {code} is not defined (RFC 4988 {section} "
                 "lists {codes})"),
    Rule(RTSOLPR_NEW_AP_LLA_MISSING, "rtsolpr-new-ap-lla-missing", ERROR, "5.3",
         "RtSolPr without a New Access Point LLA option",
         "RFC 4988 5.3: the New AP Link-layer Address 'MUST be included in "
         "all RtSolPr messages'.",
         message="{abbrev}{with_code} lacks the {label}"),
    Rule(PRRTADV_REQUIRED_OPTION_MISSING, "prrtadv-required-option-missing", ERROR, "5.4",
         "PrRtAdv lacks an option its code requires",
         "RFC 4988 5.4: New AP LLA MUST be present; with Code 0 or 1 the New "
         "Router's LLA and IP Address options MUST be included.",
         message="{abbrev}{with_code} lacks the {label}"),
    Rule(PRRTADV_OPTION_ORDER, "prrtadv-option-order", WARNING, "5.4",
         "PrRtAdv options out of the order RFC 4988 5.4 gives",
         "RFC 4988 5.4 lists the valid options 'in the following order'.",
         message="{later} option at offset {offset} comes after the "
                 "{earlier} option"),
    Rule(PRRTADV_REASON_CODE_MISSING, "prrtadv-reason-code-missing", WARNING, "5.4",
         "PrRtAdv code 2 or 3 without an LLA option carrying a reason code "
         "(5-7)",
         "RFC 4988 5.4: with Code 2 or 3 the LLA Option-Code indicates the "
         "reason (RFC 4988 6.1).",
         message="PrRtAdv Code {code} has no LLA option with a reason "
                 "Option-Code ({reasons})"),
    Rule(PRRTADV_UNSOLICITED_IDENTIFIER, "prrtadv-unsolicited-identifier", WARNING, "5.4",
         "Unsolicited PrRtAdv (code 1 or 4) with a non-zero Identifier",
         "RFC 4988 5.4: Identifier is 'set to Zero if unsolicited' (decision "
         "D9).",
         message="unsolicited PrRtAdv (Code {code}) has Identifier "
                 "{identifier}, not zero"),
    Rule(HI_REQUIRED_OPTION_MISSING, "hi-required-option-missing", ERROR, "5.5",
         "HI without the MN's LLA option or the Previous CoA option",
         "RFC 4988 5.5: both options MUST be included so that NAR can "
         "recognise the MN and set up a host route.",
         message="{abbrev}{with_code} lacks the {label}"),
    Rule(HI_REACTIVE_S_FLAG, "hi-reactive-s-flag", ERROR, "5.5",
         "HI with Code 1 has the S flag set",
         "RFC 4988 5.5: S 'MUST be 0 when Code = 1'.",
         message="HI with Code {code} (reactive) has S set"),
    Rule(HI_REACTIVE_U_FLAG, "hi-reactive-u-flag", WARNING, "5.5",
         "HI with Code 1 has the U flag set",
         "RFC 4988 5.5: U 'SHOULD be set to 0 when Code = 1'.",
         message="HI with Code {code} (reactive) has U set"),
    Rule(ICMP_TTL_ZERO, "icmp-ttl-zero", ERROR, "5.3",
         "FMIPv4 ICMP message sent with Time-to-Live 0",
         "RFC 4988 5.3-5.6: 'Time-to-Live: At least 1'; with 0 the message "
         "cannot reach even the neighbouring node.",
         message="{abbrev} sent with Time-to-Live 0 (at least 1)"),
    Rule(PRRTADV_TUPLE_PREFIX_MISSING, "prrtadv-tuple-prefix-missing",
         WARNING, "5.4",
         "PrRtAdv [AP-ID, AR-Info] tuple without a New Router Prefix option",
         "RFC 4988 5.4 defines the tuple with the New Router Prefix "
         "Information option, with no keyword (decision D15: warning).",
         message="PrRtAdv Code {code}: the tuple of the New Access Point LLA "
                 "option at offset {offset} has no New Router Prefix "
                 "Information option"),
    # --- Options and extensions ----------------------------------------
    Rule(TRUNCATED_MESSAGE, "truncated-message", ERROR, "5",
         "Message shorter than its fixed header or its declared lengths",
         "RFC 4988 5: every message has a fixed header; a shorter one cannot "
         "be processed.",
         message="{abbrev} is {length} octets long, shorter than its "
                 "{header_len}-octet fixed header",
         group=MALFORMED, stops_parsing=True),
    Rule(OPTION_LENGTH_ZERO, "option-length-zero", ERROR, "6",
         "Option or extension with Length 0",
         "RFC 4988 6: Length counts the whole option in 8-octet units; 0 is "
         "impossible and stops parsing.",
         message="option type {type} at offset {offset} has Length 0; "
                 "options after it are not decoded",
         group=MALFORMED, stops_parsing=True),
    Rule(OPTION_PAST_END, "option-past-end", ERROR, "6",
         "Option or extension runs past the end of the message or of its "
         "own Length",
         "RFC 4988 6: an option's Length must fit inside the message; an "
         "authentication extension's Length counts its SPI (RFC 4721 5), so "
         "a Length under 4 puts the SPI past the extension's end. Either way "
         "the framing of what follows cannot be trusted: parsing stops.",
         variants=(
             ("option-header", "option at offset {offset}: 1 octet left, "
              "too short for Type and Length"),
             ("option", "option type {type} at offset {offset} has Length "
              "{length} ({size} octets) but only {left} octets remain"),
             ("auth-header", "extension type {type} at offset {offset}: "
              "{left} octets left, too short for Type, Subtype and Length"),
             ("auth", "extension type {type} at offset {offset} has Length "
              "{length} but only {left} octets follow it"),
             ("auth-spi", "authentication extension at offset {offset} has "
              "Length {length}, too short for its {spi_size}-octet SPI"),
             ("extension-header", "extension type {type} at offset {offset}: "
              "1 octet left, too short for Type and Length"),
             ("extension", "extension type {type} at offset {offset} has "
              "Length {length} ({size} octets with Type and Length) but only "
              "{left} octets remain")),
         group=MALFORMED, stops_parsing=True),
    Rule(LLA_BAD_PADDING, "lla-bad-padding", ERROR, "6.1",
         "LLA option padding is not Pad1 or one PadN filling it exactly",
         "RFC 4988 6.1: 'the padN option MUST be used' to fill the LLA option "
         "to a multiple of 8 octets (decision D3).",
         variants=(
             ("short", "LLA option at offset {offset}: only {left} octets "
              "follow the Option-Code, fewer than the {lla_length}-octet "
              "link-layer address"),
             ("padding", "LLA option at offset {offset}: the {padding} octets "
              "after the {lla_length}-octet address are not Pad1 or one PadN "
              "filling them exactly"))),
    Rule(OPTION_UNKNOWN_TYPE, "option-unknown-type", INFO, "6",
         "Option type not defined by RFC 4988",
         "RFC 4988 6 defines options 20, 21 and 22; others are shown raw.",
         message="option at offset {offset} has unknown type {type}; shown "
                 "raw"),
    Rule(OPTION_UNKNOWN_CODE, "option-unknown-code", WARNING, "6",
         "Option-Code not defined for the option type",
         "RFC 4988 6.1-6.3 list the Option-Codes of each option.",
         message="{option} option at offset {offset} has unknown "
                 "Option-Code {code}"),
    Rule(OPTION_RESERVED_NOT_ZERO, "option-reserved-not-zero", WARNING, "6.2",
         "Reserved field of an option not zero",
         "RFC 4988 6.2, 6.3: Reserved is 'Set to zero'.",
         message="{option} option at offset {offset} has Reserved "
                 "{reserved}, not zero"),
    Rule(OPTION_BAD_LENGTH, "option-bad-length", ERROR, "6.2",
         "New IPv4 Address or Prefix option with a Length other than 1",
         "RFC 4988 6.2, 6.3: these options are 8 octets, Length 1.",
         variants=(
             ("option", "{option} option at offset {offset} has Length "
              "{length}, not {units}"),
             ("extension", "{option} option at offset {offset} has Length "
              "{length}, not {lengths}; shown as a Mobile IPv4 extension of "
              "{size} octets")),
         group=MALFORMED),
    Rule(PREFIX_LENGTH_OVER_32, "prefix-length-over-32", ERROR, "6.3",
         "New Router Prefix Information option with a Prefix Length over 32",
         "RFC 4988 6.3: the Prefix Length counts the leading bits of an IPv4 "
         "prefix; more than 32 is no IPv4 prefix.",
         message="New Router Prefix Information option at offset {offset} "
                 "has Prefix Length {prefixlen}, more than 32"),
    # --- Across packets ------------------------------------------------
    Rule(FBACK_WITHOUT_FBU, "fback-without-fbu", INFO, "5.2",
         "FBAck with no FBU seen for its Home Address",
         "decisions D9, D11: FBAck is matched to FBU by Home Address and "
         "Identification; with no FBU of that Home Address seen the FBU may "
         "predate the capture.", "session",
         message="FBAck for Home Address {homeaddr} (Identification "
                 "{ident}) with no FBU seen",
         wireshark=True),
    Rule(FBACK_IDENTIFICATION_MISMATCH, "fback-identification-mismatch", ERROR, "5.2",
         "FBAck Identification differs from its MN's outstanding FBU",
         "RFC 4988 5.2: Identification is copied from the FBU this FBAck "
         "replies to (decisions D9, D11).", "session",
         message="FBAck Identification {ident} differs from {request_ident} "
                 "of the outstanding FBU of frame {request_frame}",
         wireshark=True),
    Rule(FBU_UNACKNOWLEDGED, "fbu-unacknowledged", INFO, "5.2",
         "FBU never acknowledged before the capture ends",
         "decision D10: no reply seen is an observation.", "session",
         message="FBU of frame {frame} (Home Address {homeaddr}, "
                 "Identification {ident}) not acknowledged {when}",
         wireshark=True),
    Rule(HACK_WITHOUT_HI, "hack-without-hi", INFO, "5.6",
         "HAck with no HI seen between its two routers",
         "decisions D9, D11: HAck matches HI by the two routers' addresses "
         "and the Identifier; with no HI between them seen the HI may "
         "predate the capture.", "session",
         message="HAck from {src} to {dst} (Identifier {identifier}) "
                 "answers no HI seen",
         wireshark=True),
    Rule(HI_UNANSWERED, "hi-unanswered", INFO, "5.6",
         "HI never answered by a HAck before the capture ends",
         "RFC 4988 5.6: a HAck MUST be sent in reply to HI; not seeing it is "
         "an observation (decision D10).", "session",
         message="HI of frame {frame} from {src} to {dst} (Identifier "
                 "{identifier}) not answered by a HAck {when}",
         wireshark=True),
    Rule(PRRTADV_WITHOUT_RTSOLPR, "prrtadv-without-rtsolpr", INFO, "5.4",
         "Solicited PrRtAdv with no RtSolPr seen from its MN",
         "decisions D9, D11: PrRtAdv matches RtSolPr by MN address and "
         "Identifier; with no RtSolPr of that MN seen it may predate the "
         "capture.",
         "session",
         message="PrRtAdv Code {code} to {dst} (Identifier {identifier}) "
                 "answers no RtSolPr seen",
         wireshark=True),
    Rule(RTSOLPR_UNANSWERED, "rtsolpr-unanswered", INFO, "5.4",
         "RtSolPr never answered by a PrRtAdv before the capture ends",
         "decision D10: no reply seen is an observation.", "session",
         message="RtSolPr of frame {frame} from {src} (Identifier "
                 "{identifier}) not answered by a PrRtAdv {when}",
         wireshark=True),
    Rule(HACK_NCOA_OPTION_MISSING, "hack-ncoa-option-missing", ERROR, "5.6",
         "HAck answering an HI with S set lacks the NCoA option",
         "RFC 4988 5.6: if S is set in the HI, the New CoA option 'MUST be "
         "used to provide NCoA'.", "session",
         message="HAck Code {code} answers the HI of frame {request_frame}, "
                 "which has S set, without the {label}",
         wireshark=True),
    Rule(FBU_ROLE_UNKNOWN, "fbu-role-unknown", ERROR, "4",
         "FBU that is neither predictive, reactive nor forwarded",
         "RFC 4988 4, 5.1 fix the IP addresses of each mode (decision D7).",
         "session",
         message="FBU from {src} to {dst} is neither predictive (from Home "
                 "Address {homeaddr} to Home Agent {haaddr}), reactive (to "
                 "Care-of Address {coa}) nor forwarded (from {coa} to "
                 "{haaddr}) (decision D7)"),
    Rule(FORWARDED_FBU_DIFFERS, "forwarded-fbu-differs", ERROR, "4",
         "FBU forwarded by NAR differs from the MN's FBU",
         "RFC 4988 4: NAR MUST forward the contents of the FBU, starting "
         "from the Type field, to PAR (decision D7).", "session",
         message="FBU forwarded by {src} differs from the MN's FBU of frame "
                 "{frame} from offset {offset} on"),
    Rule(HI_CODE_MISMATCH, "hi-code-mismatch", ERROR, "5.5",
         "HI Code does not match how the FBU reached PAR",
         "RFC 4988 4, 5.5: Code 0 when the FBU came from the PCoA, Code 1 "
         "when it was forwarded by NAR.", "session",
         message="HI Code {code}, but the FBU of frame {frame} reached "
                 "{src} from {sender} {sender_addr}, which calls for Code "
                 "{expected}"),
    Rule(FBACK_WRONG_DESTINATION, "fback-wrong-destination", ERROR, "5.2",
         "FBAck sent to an address other than its FBU's source",
         "RFC 4988 5.2: the destination is copied from the FBU's source; "
         "PAR->NAR and NAR->MN copies are legitimate (decision D8).", "session",
         message="FBAck sent to {dst}, not to the source of the FBU of "
                 "frame {frame} ({src}), NAR or the MN"),
    Rule(FBACK_WRONG_PORT, "fback-wrong-port", ERROR, "5.2",
         "FBAck destination port differs from its FBU's source port",
         "RFC 4988 5.2: destination port copied from the FBU's source port "
         "(decision D8).", "session",
         message="FBAck sent to port {dport}, not to source port {sport} of "
                 "the FBU of frame {frame}"),
    Rule(FBU_COA_NOT_NAR, "fbu-coa-not-nar", ERROR, "5.1",
         "FBU Care-of Address is not NAR's IP address",
         "RFC 4988 5.1, 7: even when an NCoA is provided, NAR's IP address "
         "MUST be used in the Care-of Address field.", "session",
         message="FBU of frame {frame} has Care-of Address {coa}, {reason}"),
    Rule(FBACK_LIFETIME_EXCEEDS_REQUEST, "fback-lifetime-exceeds-request", WARNING, "5.2",
         "FBAck grants more Lifetime than the FBU asked for",
         "RFC 3344 3.4 (as RFC 4988 5.2 adopts the layout): the granted "
         "lifetime does not exceed the requested one.", "session",
         message="FBAck grants Lifetime {lifetime} s, more than the "
                 "{requested} s the FBU of frame {frame} asked for"),
    Rule(FBU_IDENTIFICATION_REUSED, "fbu-identification-reused", ERROR, "5.1",
         "One Identification used by distinct FBUs of the same MN (replay)",
         "RFC 4988 5.1 uses Identification as RFC 3344 does: it protects "
         "against replay and must change between distinct requests.",
         "session",
         message="Identification {ident} was already used by the different "
                 "FBU of frame {frame}"),
    Rule(HI_HACK_WITHOUT_IPSEC, "hi-hack-without-ipsec", INFO, "7",
         "HI or HAck between two routers seen without IPsec ESP",
         "RFC 4988 7: 'IPsec ESP SHOULD be used' between the access routers; "
         "reported once per router pair.", "session",
         message="{abbrev} between {src} and {dst} is not protected by "
                 "IPsec ESP (reported once per router pair)",
         wireshark=True),
    Rule(HACK_IDENTIFIER_MISMATCH, "hack-identifier-mismatch", ERROR, "5.6",
         "HAck that does not answer the outstanding HI between its routers",
         "RFC 4988 5.6 with 5.5: the HAck copies the HI's Identifier and "
         "goes back from the HI's destination to its source (decisions D9, "
         "D11, D17: the routers in either order, so a HAck sent back the "
         "wrong way is named with the HI it fails to answer).", "session",
         message="HAck from {src} to {dst} (Identifier {identifier}) does "
                 "not answer the outstanding HI of frame {request_frame} "
                 "from {request_src} to {request_dst} (Identifier "
                 "{request_ident})",
         wireshark=True),
    Rule(PRRTADV_IDENTIFIER_MISMATCH, "prrtadv-identifier-mismatch", ERROR,
         "5.4",
         "Solicited PrRtAdv Identifier differs from its MN's outstanding "
         "RtSolPr",
         "RFC 4988 5.4 with 5.3: a solicited PrRtAdv copies the RtSolPr's "
         "Identifier (decisions D9, D11).", "session",
         message="PrRtAdv Identifier {identifier} differs from "
                 "{request_ident} of the outstanding RtSolPr of frame "
                 "{request_frame} from {dst}",
         wireshark=True),
    Rule(FBACK_HOME_AGENT_NOT_PAR, "fback-home-agent-not-par", ERROR, "5.2",
         "FBAck Home Agent field is not the PAR's address",
         "RFC 4988 5.2: Home Agent is 'The Previous Access Router's global IP "
         "address', the Home Agent field of the FBU it answers (5.1).",
         "session",
         message="FBAck Home Agent {haaddr} is not the PAR {par} the FBU of "
                 "frame {frame} was sent to",
         wireshark=True),
    Rule(FBACK_NCOA_DROPPED, "fback-ncoa-dropped", ERROR, "4",
         "FBAck without the NCoA the NAR supplied in its HAck",
         "RFC 4988 4: 'The PAR includes this NCoA in FBack', and 5.2: the "
         "New IPv4 Address option with Option-Code 2 MUST be present when "
         "NAR supplies the NCoA.", "session",
         message="FBAck Code {code} carries no NCoA, but the HAck of frame "
                 "{hack_frame} supplied {ncoa}",
         wireshark=True),
    Rule(FBACK_NCOA_DIFFERS, "fback-ncoa-differs", ERROR, "4",
         "FBAck NCoA differs from the one the NAR supplied in its HAck",
         "RFC 4988 4: the PAR includes 'this NCoA', the one the HAck "
         "carried, in the FBAck.", "session",
         message="FBAck NCoA {fback_ncoa} differs from {ncoa}, supplied by "
                 "the HAck of frame {hack_frame}",
         wireshark=True),
    Rule(SESSION_STATE_CAPPED, "session-state-capped", INFO, "-",
         "The checker's cross-packet state reached a cap and dropped state",
         "Memory stays bounded on any capture: each table of requests, "
         "handovers and router pairs, and the addresses kept per handover, "
         "have a cap. From the first drop on, a reply may be reported as "
         "matching no request, a request as unanswered, and checks that "
         "needed the dropped state are skipped. Said once per capture.",
         "session",
         message="state cap reached ({what}): older state is dropped from "
                 "here on, so matching may be incomplete"),
    # --- Authenticators ------------------------------------------------
    Rule(AUTH_AUTHENTICATOR_BAD, "auth-authenticator-bad", ERROR, "5.1",
         "MN-PAR authenticator does not verify with the configured key",
         "RFC 4988 5.1, 7 and decision D5: the authenticator is the keyed HMAC "
         "over the message through the SPI.",
         message="{abbrev} MN-PAR authenticator {authenticator} does not "
                 "verify with the {algorithm} key of SPI {spi} (expected "
                 "{expected})",
         wireshark=True),
    Rule(AUTH_UNKNOWN_SPI, "auth-unknown-spi", INFO, "5.1",
         "MN-PAR Authentication Extension with an SPI not in the key file",
         "decision D5: without a key the authenticator is shown, not verified.",
         message="{abbrev} MN-PAR SPI {spi} ({spi_hex}) is not in the key "
                 "file; authenticator not verified",
         wireshark=True),
    Rule(AUTH_SPI_RESERVED, "auth-spi-reserved", ERROR, "5.1",
         "MN-PAR Authentication Extension with a reserved SPI (0-255)",
         "RFC 3344 1.6, 3.5 (decision D14): SPI values 0 through 255 are "
         "reserved and MUST NOT be used in any mobility security "
         "association; the authenticator is then not verified.",
         message="{abbrev} MN-PAR SPI {spi} is reserved (0-255, decision "
                 "D14); authenticator not verified"),
    # --- The capture ---------------------------------------------------
    Rule(CAPTURE_TRUNCATED, "capture-truncated", WARNING, "-",
         "The capture file ends in the middle of a record",
         "Findings cover the part that could be read.", "capture",
         message="{problem}"),
    Rule(FRAGMENT_NOT_REASSEMBLED, "fragment-not-reassembled", WARNING, "-",
         "A fragmented FMIPv4 message could not be reassembled and checked",
         "Only complete messages can be checked.", "capture",
         variants=(
             ("first-seen", "fragmented {proto} datagram {src} -> {dst} id "
              "{ident} (frames {frames}) not reassembled: {reason} (first "
              "fragment shows {what}{clipped})"),
             ("first-unseen", "fragmented {proto} datagram {src} -> {dst} id "
              "{ident} (frames {frames}) not reassembled: {reason} (first "
              "fragment never seen, may be FMIPv4{clipped})"))),
    Rule(PACKET_CLIPPED, "packet-clipped", WARNING, "-",
         "FMIPv4 message clipped by the capture's snap length",
         "The part beyond the snap length was not captured and cannot be "
         "checked.", "capture",
         message="frame {frame}: {proto} {src} -> {dst} clipped by the snap "
                 "length: {have} of {total} IP octets captured",
         wireshark=True),
    Rule(TUNNEL_TOO_DEEP, "tunnel-too-deep", WARNING, "-",
         "Tunnels nested deeper than the reader follows",
         "The reader follows tunnels (IP-in-IP, GRE, MPLS, VXLAN, PPPoE) as "
         "deep as Wireshark does and further; a frame nested deeper still is "
         "not looked into, and says so rather than passing silently.",
         "capture",
         message="frame {frame}: {what}; its datagram is not checked"),
)

# --- What a finding says -------------------------------------------------------
#
# The words are the rows' (Rule.message, Rule.variants); these are the
# pieces of text some findings put into them.

D1_NOTE = (" (its high octet, the figure's 'reserved' field, is not zero; "
           "decision D1)")

# The "when" of a request never answered, seen at the end of the capture.
AT_CAPTURE_END = "before the capture ends"


RULES_BY_ID = {r.id: r for r in RULES}
RULES_BY_NAME = {r.name: r for r in RULES}

# rule id -> its one template; rule id -> {variant: template}
MESSAGES: dict[str, str] = {r.id: r.message for r in RULES
                            if r.message is not None}
VARIANTS: dict[str, dict[str, str]] = {r.id: dict(r.variants) for r in RULES
                                       if r.variants}


def say(rule_id: str, /, variant: str | None = None, **values) -> str:
    """The finding's text: the rule's template (or its variant's) filled
    with values."""
    if variant is None:
        return MESSAGES[rule_id].format_map(values)
    return VARIANTS[rule_id][variant].format_map(values)


def constant_name(r: Rule) -> str:
    """The module constant holding a rule's id: its slug in upper case."""
    return r.name.upper().replace("-", "_")


def rule(ident: str) -> Rule:
    """A rule by id ("FM101") or slug ("fbu-lifetime-over-limit")."""
    return RULES_BY_ID.get(ident) or RULES_BY_NAME[ident]
