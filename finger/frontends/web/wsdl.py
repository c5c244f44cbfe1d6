"""
The SOAP endpoint's interface document: WSDL 1.1, SOAP 1.1 binding,
document/literal wrapped, with its XML Schema inline.

The document is generated from L{Operation} descriptions, the same ones the
endpoint (L{finger.frontends.web.soap}) checks calls against, so that an
operation added there appears here with nothing else to write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "urn:twisted-finger:soap"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD = "http://www.w3.org/2001/XMLSchema"
# The element carried in a fault's <detail> when the fault is about a user.
USER_FAULT = "userFault"


@dataclass(frozen=True)
class Part:
    """One child of a wrapper element: C{type} is an XSD built-in (C{string}, C{int})."""

    name: str
    type: str = "string"
    optional: bool = False
    repeated: bool = False


@dataclass(frozen=True)
class Operation:
    """
    One operation: its request wrapper C{<name>} holds C{inputs}, its
    response wrapper C{<nameResponse>} holds C{outputs}.
    """

    name: str
    inputs: tuple[Part, ...]
    outputs: tuple[Part, ...]
    documentation: str
    userFault: bool = False

    @property
    def response(self) -> str:
        return self.name + "Response"

    @property
    def soapAction(self) -> str:
        return f"{TNS}#{self.name}"


def _sequence(parts: Iterable[Part], indent: str) -> str:
    lines = []
    for part in parts:
        occurs = ""
        if part.optional:
            occurs += ' minOccurs="0"'
        if part.repeated:
            occurs += ' maxOccurs="unbounded"'
        lines.append(f'{indent}<xs:element name="{part.name}" type="xs:{part.type}"{occurs}/>')
    return "\n".join(lines)


def _element(name: str, parts: Iterable[Part]) -> str:
    return (
        f'      <xs:element name="{name}">\n'
        "        <xs:complexType>\n"
        "          <xs:sequence>\n"
        f"{_sequence(parts, '            ')}\n"
        "          </xs:sequence>\n"
        "        </xs:complexType>\n"
        "      </xs:element>"
    )


def wsdlDocument(address: str, operations: Iterable[Operation]) -> bytes:
    """The WSDL 1.1 document for C{operations}, served at C{address}."""
    operations = list(operations)
    elements = []
    messages = []
    portOps = []
    bindingOps = []
    for op in operations:
        elements.append(_element(op.name, op.inputs))
        elements.append(_element(op.response, op.outputs))
        messages.append(
            f'  <wsdl:message name="{op.name}Request">\n'
            f'    <wsdl:part name="parameters" element="tns:{op.name}"/>\n'
            "  </wsdl:message>\n"
            f'  <wsdl:message name="{op.response}">\n'
            f'    <wsdl:part name="parameters" element="tns:{op.response}"/>\n'
            "  </wsdl:message>"
        )
        fault = '      <wsdl:fault name="UserFault" message="tns:UserFault"/>\n'
        portOps.append(
            f'    <wsdl:operation name="{op.name}">\n'
            f"      <wsdl:documentation>{escape(op.documentation)}</wsdl:documentation>\n"
            f'      <wsdl:input message="tns:{op.name}Request"/>\n'
            f'      <wsdl:output message="tns:{op.response}"/>\n'
            f"{fault if op.userFault else ''}"
            "    </wsdl:operation>"
        )
        bindingFault = (
            '      <wsdl:fault name="UserFault"><soap:fault name="UserFault" use="literal"/>'
            "</wsdl:fault>\n"
        )
        bindingOps.append(
            f'    <wsdl:operation name="{op.name}">\n'
            f'      <soap:operation soapAction="{op.soapAction}" style="document"/>\n'
            '      <wsdl:input><soap:body use="literal"/></wsdl:input>\n'
            '      <wsdl:output><soap:body use="literal"/></wsdl:output>\n'
            f"{bindingFault if op.userFault else ''}"
            "    </wsdl:operation>"
        )
    elements.append(_element(USER_FAULT, [Part("name")]))
    nl = "\n"
    document = f"""<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions name="Finger" targetNamespace="{TNS}"
    xmlns:wsdl="{WSDL}" xmlns:soap="{WSDL_SOAP}" xmlns:xs="{XSD}" xmlns:tns="{TNS}">
  <wsdl:documentation>Users' statuses (twisted-finger), SOAP 1.1 document/literal.</wsdl:documentation>
  <wsdl:types>
    <xs:schema targetNamespace="{TNS}" elementFormDefault="qualified">
{nl.join(elements)}
    </xs:schema>
  </wsdl:types>
{nl.join(messages)}
  <wsdl:message name="UserFault">
    <wsdl:part name="fault" element="tns:{USER_FAULT}"/>
  </wsdl:message>
  <wsdl:portType name="FingerPortType">
{nl.join(portOps)}
  </wsdl:portType>
  <wsdl:binding name="FingerBinding" type="tns:FingerPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
{nl.join(bindingOps)}
  </wsdl:binding>
  <wsdl:service name="FingerService">
    <wsdl:port name="FingerPort" binding="tns:FingerBinding">
      <soap:address location={quoteattr(address)}/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""
    return document.encode("utf-8")
