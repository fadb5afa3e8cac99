import XCTest
import XMPPCore

/// Foundation (re-exported by XCTest on Darwin) has its own XMLElement.
fileprivate typealias XMLElement = XMPPCore.XMLElement

final class DataFormTests: XCTestCase {
    private typealias Field = DataForm.Field

    private func xml(_ element: XMLElement) -> String {
        XMLSerializer.string(element, enclosingNamespace: Namespace.component)
    }

    private func parseError(_ element: XMLElement) -> String? {
        do {
            _ = try DataForm(element: element)
            return nil
        } catch {
            return error.text
        }
    }

    /// A form with one field of every type.
    private let everyType = DataForm.withFormType(
        "urn:example:bot",
        title: "Bot Configuration",
        instructions: ["Fill out this form.", "Then submit it."],
        fields: [
            Field(variable: nil, type: .fixed, values: ["Section 1: Bot Info"]),
            Field(variable: "public", type: .boolean, label: "Public bot?", isRequired: true),
            Field(variable: "invitelist", type: .jidMulti, label: "People to invite", values: ["a@b", "c@d"]),
            Field(variable: "owner", type: .jidSingle, values: ["owner@example.org"]),
            Field(
                variable: "features", type: .listMulti, label: "Features", values: ["news", "search"],
                options: [
                    .init(label: "News", value: "news"), .init(label: "Search", value: "search"), .init(value: "games"),
                ]),
            Field(
                variable: "maxsubs", type: .listSingle, label: "Maximum subscribers", values: ["20"],
                options: [.init(label: "10", value: "10"), .init(label: "20", value: "20")]),
            Field(variable: "description", type: .textMulti, description: "Say something", values: ["line 1", "line 2"]),
            Field(variable: "password", type: .textPrivate, label: "Password"),
            Field(variable: "botname", type: .textSingle, label: "The name of your bot", values: ["Dr. <Bot>"]),
        ])

    func testSerializesEveryFieldType() {
        XCTAssertEqual(
            xml(everyType.element),
            "<x xmlns='jabber:x:data' type='form'>"
                + "<title>Bot Configuration</title>"
                + "<instructions>Fill out this form.</instructions><instructions>Then submit it.</instructions>"
                + "<field type='hidden' var='FORM_TYPE'><value>urn:example:bot</value></field>"
                + "<field type='fixed'><value>Section 1: Bot Info</value></field>"
                + "<field type='boolean' label='Public bot?' var='public'><required/></field>"
                + "<field type='jid-multi' label='People to invite' var='invitelist'><value>a@b</value><value>c@d</value></field>"
                + "<field type='jid-single' var='owner'><value>owner@example.org</value></field>"
                + "<field type='list-multi' label='Features' var='features'><value>news</value><value>search</value>"
                + "<option label='News'><value>news</value></option><option label='Search'><value>search</value></option>"
                + "<option><value>games</value></option></field>"
                + "<field type='list-single' label='Maximum subscribers' var='maxsubs'><value>20</value>"
                + "<option label='10'><value>10</value></option><option label='20'><value>20</value></option></field>"
                + "<field type='text-multi' var='description'><desc>Say something</desc><value>line 1</value><value>line 2</value></field>"
                + "<field type='text-private' label='Password' var='password'/>"
                + "<field type='text-single' label='The name of your bot' var='botname'><value>Dr. &lt;Bot&gt;</value></field>"
                + "</x>")
    }

    func testEveryFieldTypeRoundTrips() throws {
        let element = everyType.element
        let parsed = try DataForm(element: element)
        XCTAssertEqual(parsed, everyType)
        XCTAssertEqual(parsed.element, element)
        XCTAssertEqual(Set(parsed.fields.compactMap(\.type)), Set(DataForm.FieldType.allCases))
        for type in DataForm.FieldType.allCases {
            let field = Field(variable: "v", type: type, values: ["x"])
            XCTAssertEqual(try Field(element: field.element), field, type.rawValue)
        }
    }

    func testEveryFormTypeRoundTrips() throws {
        for type in DataForm.FormType.allCases {
            let form = DataForm(type: type)
            XCTAssertEqual(xml(form.element), "<x xmlns='jabber:x:data' type='\(type.rawValue)'/>")
            XCTAssertEqual(try DataForm(element: form.element), form)
        }
    }

    func testAccessors() {
        XCTAssertEqual(everyType.formType, "urn:example:bot")
        XCTAssertEqual(everyType.value(of: "botname"), "Dr. <Bot>")
        XCTAssertEqual(everyType.values(of: "invitelist"), ["a@b", "c@d"])
        XCTAssertEqual(everyType.values(of: "nothing"), [])
        XCTAssertNil(everyType.value(of: "password"))
        XCTAssertNil(everyType[variable: "nothing"])
        XCTAssertEqual(everyType[variable: "maxsubs"]?.options.map(\.value), ["10", "20"])
        XCTAssertEqual(everyType[variable: "public"]?.isRequired, true)
        XCTAssertEqual(everyType[variable: "description"]?.description, "Say something")
        // A boolean field without a value is false (XEP-0004's default).
        XCTAssertEqual(everyType.boolean(of: "public"), false)
        XCTAssertNil(everyType.boolean(of: "nothing"))
        XCTAssertNil(everyType.boolean(of: "botname"))
        XCTAssertNil(everyType.boolean(of: "password"))
    }

    func testBooleanParsing() {
        XCTAssertEqual(DataForm.parseBoolean("1"), true)
        XCTAssertEqual(DataForm.parseBoolean("true"), true)
        XCTAssertEqual(DataForm.parseBoolean("0"), false)
        XCTAssertEqual(DataForm.parseBoolean("false"), false)
        XCTAssertEqual(DataForm.parseBoolean(" true\n"), true)
        XCTAssertNil(DataForm.parseBoolean("TRUE"))
        XCTAssertNil(DataForm.parseBoolean("yes"))
        XCTAssertNil(DataForm.parseBoolean(""))
        XCTAssertNil(DataForm.parseBoolean("2"))

        let submit = DataForm(
            type: .submit,
            fields: [
                Field(variable: "a", values: ["1"]), Field(variable: "b", values: ["false"]),
                Field(variable: "c", type: .boolean, values: ["true"]), Field(variable: "d", values: ["maybe"]),
                Field(variable: "e"),
            ])
        XCTAssertEqual(submit.boolean(of: "a"), true)
        XCTAssertEqual(submit.boolean(of: "b"), false)
        XCTAssertEqual(submit.boolean(of: "c"), true)
        XCTAssertNil(submit.boolean(of: "d"))
        XCTAssertNil(submit.boolean(of: "e"))
    }

    func testFormTypeRules() {
        // In a submission the FORM_TYPE field usually has no type.
        let submit = DataForm(type: .submit, fields: [Field(variable: "FORM_TYPE", values: ["jabber:iq:register"])])
        XCTAssertEqual(submit.formType, "jabber:iq:register")
        // In a form or result a FORM_TYPE that is not hidden does not count (XEP-0068).
        let form = DataForm(type: .form, fields: [Field(variable: "FORM_TYPE", type: .textSingle, values: ["urn:x"])])
        XCTAssertNil(form.formType)
        let untyped = DataForm(type: .result, fields: [Field(variable: "FORM_TYPE", values: ["urn:x"])])
        XCTAssertNil(untyped.formType)
        XCTAssertNil(DataForm(type: .form).formType)

        let built = DataForm.withFormType(Namespace.register, type: .submit, fields: [Field(variable: "nick", values: ["r"])])
        XCTAssertEqual(built.formType, Namespace.register)
        XCTAssertEqual(built.fields.first, .formType(Namespace.register))
        XCTAssertEqual(
            xml(built.element),
            "<x xmlns='jabber:x:data' type='submit'><field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>"
                + "<field var='nick'><value>r</value></field></x>")
    }

    func testResultWithReportedAndItems() throws {
        let result = DataForm(
            type: .result, title: "Channels",
            reported: [Field(variable: "name", label: "Channel"), Field(variable: "users", label: "Users")],
            items: [
                [Field(variable: "name", values: ["#swift"]), Field(variable: "users", values: ["42"])],
                [Field(variable: "name", values: ["#xmpp"]), Field(variable: "users", values: ["7"])],
            ])
        XCTAssertEqual(
            xml(result.element),
            "<x xmlns='jabber:x:data' type='result'><title>Channels</title>"
                + "<reported><field label='Channel' var='name'/><field label='Users' var='users'/></reported>"
                + "<item><field var='name'><value>#swift</value></field><field var='users'><value>42</value></field></item>"
                + "<item><field var='name'><value>#xmpp</value></field><field var='users'><value>7</value></field></item></x>")
        let parsed = try DataForm(element: result.element)
        XCTAssertEqual(parsed, result)
        XCTAssertEqual(parsed.items.count, 2)
        XCTAssertEqual(parsed.reported?.map(\.variable), ["name", "users"])
        // An empty <reported/> is kept apart from none.
        let emptyReported = DataForm(type: .result, reported: [])
        XCTAssertEqual(try DataForm(element: emptyReported.element).reported, [])
    }

    func testParsesInsideAStanza() throws {
        // Namespace inherited from the <x/>, whitespace between elements, foreign extensions ignored.
        let x = XMLElement(
            "x", namespace: Namespace.dataForms, ["type": "submit"],
            children: [
                .text("\n "),
                .element(
                    XMLElement(
                        "field", namespace: Namespace.dataForms, ["var": "username"],
                        children: [
                            .text("\n  "),
                            .element(.text("value", namespace: Namespace.dataForms, "juliet")),
                            .element(XMLElement("validate", namespace: "http://jabber.org/protocol/xdata-validate")),
                        ])),
                .element(XMLElement("field", namespace: Namespace.dataForms, ["var": "empty"], children: [.element(XMLElement("value", namespace: Namespace.dataForms))])),
                .element(XMLElement("unknown", namespace: "urn:example")),
            ])
        let form = try DataForm(element: x)
        XCTAssertEqual(form.type, .submit)
        XCTAssertEqual(form.fields, [Field(variable: "username", values: ["juliet"]), Field(variable: "empty", values: [""])])
    }

    func testParseErrors() {
        XCTAssertEqual(parseError(XMLElement("x", namespace: Namespace.dataForms)), "data form has no type")
        XCTAssertEqual(
            parseError(XMLElement("x", namespace: Namespace.dataForms, ["type": "poll"])), "unknown data form type 'poll'")
        XCTAssertNotNil(parseError(XMLElement("x", namespace: "jabber:x:oob", ["type": "form"])))
        XCTAssertNotNil(parseError(XMLElement("query", namespace: Namespace.dataForms, ["type": "form"])))

        func form(_ field: XMLElement) -> XMLElement {
            XMLElement("x", namespace: Namespace.dataForms, ["type": "form"], children: [.element(field)])
        }
        XCTAssertEqual(
            parseError(form(XMLElement("field", namespace: Namespace.dataForms, ["type": "text-fancy", "var": "a"]))),
            "unknown field type 'text-fancy'")
        XCTAssertEqual(
            parseError(form(XMLElement("field", namespace: Namespace.dataForms, ["type": "text-single"]))),
            "field of type 'text-single' has no var")
        XCTAssertEqual(
            parseError(form(XMLElement("field", namespace: Namespace.dataForms))), "field of type 'text-single' has no var")
        XCTAssertEqual(
            parseError(
                form(
                    XMLElement(
                        "field", namespace: Namespace.dataForms, ["type": "list-single", "var": "l"],
                        children: [.element(XMLElement("option", namespace: Namespace.dataForms, ["label": "x"]))]))),
            "option of field 'l' has no value")

        let twoReported = XMLElement(
            "x", namespace: Namespace.dataForms, ["type": "result"],
            children: [
                .element(XMLElement("reported", namespace: Namespace.dataForms)),
                .element(XMLElement("reported", namespace: Namespace.dataForms)),
            ])
        XCTAssertEqual(parseError(twoReported), "data form has more than one <reported/>")

        // A fixed field needs no var.
        XCTAssertNil(parseError(form(XMLElement("field", namespace: Namespace.dataForms, ["type": "fixed"]))))
    }

    func testParseErrorIsAnError() {
        let error: any Error = DataForm.ParseError("bad")
        XCTAssertEqual((error as? DataForm.ParseError)?.description, "bad")
    }
}
