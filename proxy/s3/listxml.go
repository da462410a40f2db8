package s3

import (
	"strconv"
	"unicode/utf8"
)

// The listing documents are the largest the server writes (a thousand
// entries a page) and encoding/xml's reflection made half the server's
// cost of a LIST: they are written by hand here, to the same elements.
// TestListXMLMatchesEncodingXML checks the two agree.

type xmlAppender interface {
	appendXML(b []byte) []byte
}

type xmlBuf struct{ b []byte }

func (x *xmlBuf) open(name string)  { x.b = append(append(append(x.b, '<'), name...), '>') }
func (x *xmlBuf) close(name string) { x.b = append(append(append(x.b, "</"...), name...), '>') }

// text appends s escaped as encoding/xml escapes character data.
func (x *xmlBuf) text(s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '&':
				x.b = append(x.b, "&amp;"...)
			case c == '<':
				x.b = append(x.b, "&lt;"...)
			case c == '>':
				x.b = append(x.b, "&gt;"...)
			case c == '"':
				x.b = append(x.b, "&#34;"...)
			case c == '\'':
				x.b = append(x.b, "&#39;"...)
			case c == '\t':
				x.b = append(x.b, "&#x9;"...)
			case c == '\n':
				x.b = append(x.b, "&#xA;"...)
			case c == '\r':
				x.b = append(x.b, "&#xD;"...)
			case c < 0x20:
				x.b = append(x.b, "\uFFFD"...)
			default:
				x.b = append(x.b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !xmlChar(r) {
			x.b = append(x.b, "\uFFFD"...)
		} else {
			x.b = append(x.b, s[i:i+n]...)
		}
		i += n
	}
}

// xmlChar reports whether r may appear in an XML document (for runes at or
// above 0x80).
func xmlChar(r rune) bool {
	return r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

func (x *xmlBuf) elem(name, v string) {
	x.open(name)
	x.text(v)
	x.close(name)
}

func (x *xmlBuf) elemOmit(name, v string) {
	if v != "" {
		x.elem(name, v)
	}
}

func (x *xmlBuf) int(name string, v int64) {
	x.open(name)
	x.b = strconv.AppendInt(x.b, v, 10)
	x.close(name)
}

func (x *xmlBuf) bool(name string, v bool) {
	x.open(name)
	x.b = strconv.AppendBool(x.b, v)
	x.close(name)
}

func (x *xmlBuf) contents(items []objectItem) {
	for i := range items {
		it := &items[i]
		x.open("Contents")
		x.elem("Key", it.Key)
		x.elem("LastModified", it.LastModified)
		x.elem("ETag", it.ETag)
		for _, a := range it.ChecksumAlgorithm {
			x.elem("ChecksumAlgorithm", a)
		}
		x.elemOmit("ChecksumType", it.ChecksumType)
		x.int("Size", it.Size)
		x.elem("StorageClass", it.StorageClass)
		if len(it.UserMetadata) > 0 {
			x.open("UserMetadata")
			for _, m := range it.UserMetadata {
				x.elem(m.Name, m.Value)
			}
			x.close("UserMetadata")
		}
		if it.Owner != nil {
			x.open("Owner")
			x.elem("ID", it.Owner.ID)
			x.elem("DisplayName", it.Owner.DisplayName)
			x.close("Owner")
		}
		x.close("Contents")
	}
}

func (x *xmlBuf) prefixes(ps []commonPrefix) {
	for _, p := range ps {
		x.open("CommonPrefixes")
		x.elem("Prefix", p.Prefix)
		x.close("CommonPrefixes")
	}
}

func (x *xmlBuf) root(xmlns string) {
	x.b = append(x.b, `<ListBucketResult xmlns="`...)
	x.text(xmlns)
	x.b = append(x.b, `">`...)
}

func (d listBucketResultV1) appendXML(b []byte) []byte {
	x := xmlBuf{b: b}
	x.root(d.Xmlns)
	x.elem("Name", d.Name)
	x.elem("Prefix", d.Prefix)
	x.elem("Marker", d.Marker)
	x.elemOmit("NextMarker", d.NextMarker)
	x.int("MaxKeys", int64(d.MaxKeys))
	x.elemOmit("Delimiter", d.Delimiter)
	x.bool("IsTruncated", d.IsTruncated)
	x.contents(d.Contents)
	x.prefixes(d.CommonPrefixes)
	x.elemOmit("EncodingType", d.EncodingType)
	x.close("ListBucketResult")
	return x.b
}

func (d listBucketResultV2) appendXML(b []byte) []byte {
	x := xmlBuf{b: b}
	x.root(d.Xmlns)
	x.elem("Name", d.Name)
	x.elem("Prefix", d.Prefix)
	x.elemOmit("ContinuationToken", d.ContinuationToken)
	x.elemOmit("NextContinuationToken", d.NextContinuationToken)
	x.elemOmit("StartAfter", d.StartAfter)
	x.int("KeyCount", int64(d.KeyCount))
	x.int("MaxKeys", int64(d.MaxKeys))
	x.elemOmit("Delimiter", d.Delimiter)
	x.bool("IsTruncated", d.IsTruncated)
	x.contents(d.Contents)
	x.prefixes(d.CommonPrefixes)
	x.elemOmit("EncodingType", d.EncodingType)
	x.close("ListBucketResult")
	return x.b
}
