package bot

import (
	"fmt"

	"github.com/askpa/askpa/knowledge"
)

// What the bot says outside answers from the knowledge base, in one place
// so that it can be read and edited together.
const (
	msgWelcome = `Hello, I am askpa. I answer questions about employing a personal assistant (PA) with a direct payment, and about working as a PA, in England: pay, holiday, sick pay, pensions, DBS checks, contracts, safeguarding and more.

What I cannot do: I am not a person, I cannot look at your own case or give legal advice, and I only know about England. I will say when I am not sure, and I can pass you to a person on the support team at any time (type /human).

Privacy: your messages are kept for a while so that support staff can help you if you ask for a person. Please do not send bank details or National Insurance numbers. Type /privacy to see what is kept and for how long, and /forget to erase it.

Are you an employer or a PA?`

	msgHelp = `Ask me a question in your own words, for example "how much holiday does a PA get?".

/topics - browse topics
/human - talk to a person on the support team
/cancel - go back to askpa after asking for a person
/start - who I am, and change between employer and PA
/privacy - what askpa keeps about you, and for how long
/forget - erase everything askpa holds about you

If an answer was not right, press "Not helpful" and I will try again or find you a person.`

	msgAudienceEmployer = "Thanks. I will answer as for someone who employs a PA. Ask me anything, or type /topics to browse."
	msgAudiencePA       = "Thanks. I will answer as for a PA (personal assistant). Ask me anything, or type /topics to browse."

	msgTopics        = "Choose a topic:"
	msgTopicPassages = "Here is what I can tell you about %s. Choose one:"
	msgNoTopic       = "Sorry, I could not find that topic. Type /topics to see them all."

	msgThanksHelpful = "Thank you, that helps us improve askpa."
	msgNotHelpful    = "Sorry that did not help. Would you like to try asking in a different way, or talk to a person?"
	msgRephrase      = "Please type your question again in different words. Short questions with the main words work best, for example \"holiday pay for irregular hours\"."
	msgNothingToRate = "Thanks. Ask me a question first, then tell me whether the answer helped."
	msgFeedback      = "Was my last answer helpful?"

	msgHandedOver    = "I have passed your conversation to the support team. A person will reply here, usually %s.%s You can keep writing: everything you send reaches them. Type /cancel to go back to askpa."
	msgUrgentHanded  = "I have also told the support team, and someone will contact you as soon as they can. If you are in danger, please do not wait: call 999."
	msgStillWaiting  = "The support team has your message. A person will reply here, usually %s. Type /cancel to go back to askpa."
	msgAlreadyHanded = "You are already waiting for a person from the support team; they will reply here. Type /cancel to go back to askpa."
	msgCancelled     = "OK, you are back with askpa. Ask me anything, or type /human if you need a person again."
	msgNothingCancel = "There is nothing to cancel: you are talking to askpa. Ask me anything."
	msgClaimed       = "A member of the support team has picked up your conversation and will reply here."
	msgResolved      = "The support team has finished with this conversation. You are back with askpa: ask me anything, or type /human if you need a person again."
	msgReopened      = "The support team has reopened your conversation. A person will reply here."
	msgOfferPerson   = "I have not been able to answer your last few questions. Would you like to talk to a person on the support team?"
	msgMissesHanded  = "I have not been able to answer your questions, so I am passing you to the support team."
	msgNoDesk        = "Sorry, I cannot reach the support team from here. Please contact {{local.support_contact | your council's direct payments team or your direct payment support service}}."
	msgStaffPrefix   = "Support team: "
	msgWhileYouWait  = "While you wait, this is what the guidance says:"
	msgSituation     = "I am sorry you are dealing with so much. You do not have to work it all out at once, and you do not have to do it alone: a person on the support team can talk it through with you (press the button below). Here is where many people start:"
	msgPassageGone   = "Sorry, that answer has changed since I offered it. Please ask your question again."
	msgRequested     = "Of course. I will pass your conversation to the support team so a person can help you."
	msgDispute       = "That sounds like a decision or disagreement I should not advise on alone, so I am asking someone from the support team to get in touch. Most decisions can be challenged by asking for a review or complaining in writing, and Acas (0300 123 1100) gives free advice on problems at work."
	msgOffTopic      = "Sorry, I can only help with questions about employing a personal assistant (PA) or working as one, in England. Try asking about {topics}, or type /topics to browse."

	// msgPrivacy is the reply to /privacy: the periods conversations,
	// escalations, web mailboxes and PA network introductions are kept
	// (see privacyNotice).
	msgPrivacy = `What askpa keeps about you, and for how long:

• Your conversation with askpa: your messages (with phone numbers, email addresses, National Insurance numbers, postcodes and names taken out) and its replies, and a note of each question and whether askpa could answer it, which helps the team improve the guides. Deleted %s after your last message.
• If you are passed to a person: the support team get your conversation as you wrote it, and keep it for %s after they close it.
• On a web page: askpa's replies waiting for you there, for %s.
• If you ask to be introduced to a PA, or a PA answers you, through the PA network: the request, your note and the contact details each of you chose to share, until %s after it was answered or ran out.

Who can see it: the support team, and the people who run askpa for them. Your messages go nowhere else, except to the support team's own tools (their helpdesk or chat) when you are passed to a person.

Type /forget to erase everything askpa holds about you. To get a copy of it, ask the support team (type /human).`

	msgForgetIntro        = "This erases everything askpa holds about you, for good:"
	msgForgetConversation = "your conversation with askpa (%s from you, and its replies) and any feedback you gave"
	msgForgetEscalations  = "what you wrote to the support team (%s): they keep only a note that it was erased, not what you said."
	msgForgetWithdraw     = "Your open request to them is withdrawn."
	msgForgetMailbox      = "%s waiting for you on the web page"
	msgForgetApp          = "Messages already in this chat stay in your app: you can delete them there. Erase your data?"
	msgForgetTyped        = "To erase it, send /forget erase."
	msgForgotten          = "Done: everything askpa held about you has been erased. If you write again, you start a new conversation."
	msgKeptData           = "OK, nothing has been erased."
	msgNoForget           = "Sorry, I cannot erase your data from here. Please ask the support team (type /human) or your council's direct payments team."

	// msgQuietSummary is the summary of a follow-up escalation: the kind
	// of caution shown, and the person's last message.
	msgQuietSummary = "No reply since askpa showed a signposting line (%s) after: %s"

	// defaultResponseTime completes "A person will reply here, usually ...".
	defaultResponseTime = "within one working day"

	// msgSupportOpen follows "A person will reply here, usually ..." when
	// the local pack gives the support service's hours: its name, its
	// hours, and what to do outside them (msgOutOfHours...).
	msgSupportOpen            = " %s is open %s; outside those hours, %s"
	msgOutOfHoursSafeguarding = "if you are worried someone is being harmed, call %s's out-of-hours safeguarding number, %s, and if anyone is in danger, call 999."
	msgOutOfHours999          = "if anyone is in danger, call 999."
)

// supportOpen returns what the hand-over says about when the local support
// service answers, with a space before it; "" without a pack or hours.
func supportOpen(a *knowledge.Area) string {
	if a == nil || a.SupportService.Name == "" || a.SupportService.Hours == "" {
		return ""
	}
	outside := msgOutOfHours999
	if a.Safeguarding.OutOfHours != "" {
		outside = fmt.Sprintf(msgOutOfHoursSafeguarding, a.Name, a.Safeguarding.OutOfHours)
	}
	return fmt.Sprintf(msgSupportOpen, a.SupportService.Name, a.SupportService.Hours, outside)
}

// Button labels.
const (
	labelMore       = "More"
	labelSupport    = "Talk it through with a person"
	labelHelpful    = "Helpful"
	labelNotHelpful = "Not helpful"
	labelHuman      = "Talk to a person"
	labelRephrase   = "Ask another way"
	labelCancel     = "Back to askpa"
	labelTopics     = "Browse topics"
	labelEmployer   = "I employ a PA"
	labelPA         = "I am a PA"
	labelErase      = "Erase my data"
	labelKeepData   = "Keep it"
)

// The PA network (/findpa) and introductions.
const (
	msgNoNetwork = "This service does not run a PA network yet. Your council's direct payments team can tell you about local PA registers, and /topics has guidance on finding and choosing a PA."
	msgFindPAAsk = `Which area? Send the first half of your postcode (like EX4) or your town, and what help you need, for example: EX4 personal care

Services people list: personal care, shopping, meals, housework, getting out, overnight, medication, moving and handling, dementia, learning disability, autism, mental health, end of life, driving, companionship.`
	msgFindPABadArea    = "I could not read %q as an area. Please send the first half of your postcode (like EX4 or TQ12) or the name of your town."
	msgFindPAFound      = "PAs and micro-providers %s (%d to %d), nearest first:"
	msgFindPANone       = "There is nobody listed %s at the moment. Listings change every week: try again later, try a nearby town or without the service, or ask your council's direct payments team about other local registers."
	msgFindPADropped    = "Nobody nearby mentions %q, so here is everyone for the area instead."
	msgFindPAGuides     = "Before you employ anyone: /topics has guidance on right-to-work checks, references, DBS checks and employing a PA."
	msgIntroAskNote     = "Write a short note to them: what help you need, roughly where and when. Please leave out phone numbers and emails for now: I will ask for how they can reach you next, and share it only if they say yes."
	msgIntroAskContact  = "Thank you. How should they contact you if they say yes? Send a phone number or an email address, and anything like the best time to call. They will not see it unless they accept."
	msgIntroSent        = "Sent. They will see your note and can accept or decline. If they accept, I will send you their contact details here, and they will get yours. If they have not answered in 7 days, I will let you know."
	msgIntroLimit       = "You have asked for 5 introductions in the last 24 hours, which is the most the network allows. Please try again tomorrow, or ask the support team (type /human)."
	msgIntroUnavailable = "Sorry, that listing is no longer available, or you have already asked them. Type /findpa to search again."
	msgIntroCancelled   = "OK, no introduction sent."
	labelIntroduce      = "Ask to be introduced to %s"
	labelMoreListings   = "More"
	labelCancelIntro    = "Cancel"
	labelFindPA         = "Search the PA network"
)

// Areas (/area).
const (
	msgOneArea     = "This service answers for one area, so there is nothing to choose."
	msgAreaAsk     = "Which council's area do you live in? Press one below, or send the first half of your postcode (like EX4) or your council's name. It means I can give you your council's own phone numbers and support service."
	msgAreaNow     = "Your area is %s."
	msgAreaUnknown = "I could not find an area for %q."
	msgAreaSet     = "Thank you. I will give you %s's details where they help. You can change this at any time with /area."
	msgAreaNone    = "OK. I will give you the national details, and you can choose your area at any time with /area."
	labelNotListed = "My council is not listed"
)
