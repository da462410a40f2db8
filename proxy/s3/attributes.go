package s3

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// GetObjectAttributes: what HEAD tells and more (checksum, parts), chosen
// by x-amz-object-attributes, answered from the metadata records.

type attributesPart struct {
	PartNumber int   `xml:"PartNumber"`
	Size       int64 `xml:"Size"`
	checksumFields
}

type getObjectAttributesResponse struct {
	XMLName  xml.Name `xml:"GetObjectAttributesResponse"`
	Xmlns    string   `xml:"xmlns,attr"`
	ETag     string   `xml:"ETag,omitempty"`
	Checksum *struct {
		checksumFields
		ChecksumType string `xml:"ChecksumType,omitempty"`
	} `xml:"Checksum,omitempty"`
	ObjectParts *struct {
		TotalPartsCount      int              `xml:"PartsCount"`
		PartNumberMarker     int              `xml:"PartNumberMarker"`
		NextPartNumberMarker int              `xml:"NextPartNumberMarker"`
		MaxParts             int              `xml:"MaxParts"`
		IsTruncated          bool             `xml:"IsTruncated"`
		Parts                []attributesPart `xml:"Part"`
	} `xml:"ObjectParts,omitempty"`
	StorageClass string `xml:"StorageClass,omitempty"`
	ObjectSize   *int64 `xml:"ObjectSize,omitempty"`
}

var objectAttributes = map[string]bool{"ETag": true, "Checksum": true, "ObjectParts": true, "StorageClass": true, "ObjectSize": true}

func (q *request) getObjectAttributes() error {
	want := map[string]bool{}
	for _, v := range q.r.Header.Values("X-Amz-Object-Attributes") {
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				if !objectAttributes[a] {
					return ErrInvalidArgument.withMessage("Invalid attribute name specified.")
				}
				want[a] = true
			}
		}
	}
	if len(want) == 0 {
		return ErrInvalidArgument.withMessage("Empty Attribute List.")
	}
	maxParts, marker := 1000, 0
	if v := q.r.Header.Get("X-Amz-Max-Parts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return ErrInvalidArgument.withMessage("Argument max-parts must be an integer between 0 and 1000.")
		}
		maxParts = min(n, 1000)
	}
	if v := q.r.Header.Get("X-Amz-Part-Number-Marker"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return ErrInvalidArgument.withMessage("Argument part-number-marker must be an integer.")
		}
		marker = n
	}
	if err := refuseSSEOnRead(q.r.Header); err != nil { // sse.go
		return err
	}
	ck, err := parseCustomerKey(q.r.Header, false)
	if err != nil {
		return err
	}
	vid, _ := q.versionID() // checked in run
	info, err := q.s.store.HeadObjectVersion(q.ctx, q.target.Bucket, q.target.Key, vid)
	if err != nil {
		return q.versionErr(info, err)
	}
	// An object stored with a customer key shows its attributes only to a
	// request that gives the key, as for GET and HEAD.
	if _, err := q.s.openObjectKey(info.Headers, ck, q.target.Bucket, q.target.Key); err != nil {
		return err
	}
	_, asked := q.query["versionId"]
	q.setVersionHeaders(q.w.Header(), info, asked)
	q.w.Header().Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	doc := getObjectAttributesResponse{Xmlns: s3Namespace}
	if want["ETag"] {
		doc.ETag = clientETag(info)
	}
	if want["StorageClass"] {
		doc.StorageClass = "STANDARD"
	}
	if want["ObjectSize"] {
		size := info.Size
		doc.ObjectSize = &size
	}
	if want["Checksum"] && info.Checksum.Value != "" {
		// The "-N" part count of a composite value is HEAD's; the
		// attributes carry the value alone.
		cs := info.Checksum
		if i := strings.LastIndexByte(cs.Value, '-'); i > 0 {
			cs.Value = cs.Value[:i]
		}
		doc.Checksum = &struct {
			checksumFields
			ChecksumType string `xml:"ChecksumType,omitempty"`
		}{checksumFields: checksumXML(cs), ChecksumType: cs.Type}
	}
	if want["ObjectParts"] && len(info.Parts) > 0 {
		op := &struct {
			TotalPartsCount      int              `xml:"PartsCount"`
			PartNumberMarker     int              `xml:"PartNumberMarker"`
			NextPartNumberMarker int              `xml:"NextPartNumberMarker"`
			MaxParts             int              `xml:"MaxParts"`
			IsTruncated          bool             `xml:"IsTruncated"`
			Parts                []attributesPart `xml:"Part"`
		}{TotalPartsCount: len(info.Parts), PartNumberMarker: marker, MaxParts: maxParts}
		for _, p := range info.Parts {
			if p.Number <= marker {
				continue
			}
			if len(op.Parts) == maxParts {
				op.IsTruncated = true
				break
			}
			op.Parts = append(op.Parts, attributesPart{PartNumber: p.Number, Size: p.Size, checksumFields: checksumXML(p.Checksum)})
			op.NextPartNumberMarker = p.Number
		}
		doc.ObjectParts = op
	}
	q.writeXML(http.StatusOK, doc)
	return nil
}
